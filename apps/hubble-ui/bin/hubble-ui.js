#!/usr/bin/env node
// Installed as `hubble-ui` on node_modules/.bin; the program itself is compiled to dist/.
import '../dist/main.js';
