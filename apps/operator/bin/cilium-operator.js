#!/usr/bin/env node
// Installed as `cilium-operator` on node_modules/.bin; the program itself is compiled to dist/.
import '../dist/main.js';
