// @basis/experiments/node: the parts that read and write files (demo, recipes).
export { demoReport, runDemo, type DemoOptions, type DemoResult } from './demo.js';
