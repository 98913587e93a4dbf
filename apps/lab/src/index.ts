export { runDatapathDemo, decodeDemoEvent, type DemoResult, type DemoEvent } from "./demo.js";
