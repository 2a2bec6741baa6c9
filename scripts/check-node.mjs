// Fails an install early, with a clear message, on a Node older than the engines field allows.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`customer-lifecycle needs Node >= 20.19 (found ${process.versions.node}).`);
  process.exit(1);
}
