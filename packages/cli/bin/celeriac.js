#!/usr/bin/env node
// The published entry point. It exists before the first build, so npm can link the `celeriac` command at install
// time; the command itself is compiled to dist/.
import '../dist/bin.js';
