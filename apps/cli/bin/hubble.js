#!/usr/bin/env node
// Installed as `hubble` on node_modules/.bin; the program itself is compiled to dist/.
import '../dist/hubble.js';
