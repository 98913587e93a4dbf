#!/usr/bin/env node
// Installed as `cilium-cni` on node_modules/.bin; the program itself is compiled to dist/.
import '../dist/main.js';
