// Placeholder: the datapath demo lands with the foundation issue.
console.log('Usage: cilium-lab demo');
