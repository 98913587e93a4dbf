#!/usr/bin/env node
// Installed as `cilium` on node_modules/.bin; the program itself is compiled to dist/.
import '../dist/cilium.js';
