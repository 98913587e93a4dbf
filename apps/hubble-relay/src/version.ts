/** The relay's version (semver, as the `hubble-relay-version` header carries it). */
export const RELAY_VERSION = '1.19.4-ts';
