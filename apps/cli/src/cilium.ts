// Placeholder until the agent issue lands.
console.log('Usage: cilium [command]\n\nNot implemented yet in this build of cilium-ts.');
