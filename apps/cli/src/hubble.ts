// Placeholder until the Hubble issue lands.
console.log('Usage: hubble [command]\n\nNot implemented yet in this build of cilium-ts.');
