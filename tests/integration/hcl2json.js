// Parses Terraform files with @cdktf/hcl2json (HashiCorp's HCL parser,
// compiled to WebAssembly) and prints {"FILE": PARSED, ...} as JSON.
//   node hcl2json.js NODE_MODULES_PARENT FILE...
// A file that does not parse fails the run with the parser's message.
const path = require("path");
const fs = require("fs");
const { parse } = require(path.resolve(process.argv[2], "node_modules/@cdktf/hcl2json"));

(async () => {
  const out = {};
  for (const f of process.argv.slice(3)) {
    try {
      out[f] = await parse(f, fs.readFileSync(f, "utf8"));
    } catch (e) {
      console.error(`${f}: ${e.message || e}`);
      process.exit(1);
    }
  }
  process.stdout.write(JSON.stringify(out));
})();
