export { ip, ipJson, linkInfo, type LinkInfo, type NetnsRef } from './ip.js';
