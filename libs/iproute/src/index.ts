export { ip, ipBatch, ipJson, linkInfo, type LinkInfo, type NetnsRef } from './ip.js';
