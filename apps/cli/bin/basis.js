#!/usr/bin/env node
// Thin shim: all logic lives in the built package.
import { main } from '../dist/index.js';

process.exitCode = await main(process.argv.slice(2));
