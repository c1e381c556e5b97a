// Printed first by `npm test`, so every run says which runtime it used (the project brings Node 24).
const [major] = process.versions.node.split('.').map(Number);
console.log(`commandbus tests on node ${process.version} (${process.execPath})`);
if (major < 24) {
  console.error(`Node ${process.version} is too old: run through npm scripts so node_modules/.bin/node (Node 24) is used.`);
  process.exit(1);
}
