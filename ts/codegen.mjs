// Generates a TypeScript client for every contract schema under ../schema (one directory per
// contract, as `just schema` writes them) into ./generated, which it empties first so a removed
// message leaves no file behind. Never edit generated/ by hand: change the Rust messages, run
// `just schema`, then this (`just ts-check` does both the generation and the type check).
//
// usage: node codegen.mjs [SCHEMA_DIR] [OUT_DIR]   (defaults: ../schema, ./generated)
import { readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import tsCodegen from "@cosmwasm/ts-codegen";

const here = dirname(fileURLToPath(import.meta.url));
const schemaDir = resolve(process.argv[2] ?? join(here, "..", "schema"));
const outDir = resolve(process.argv[3] ?? join(here, "generated"));

// staking-vault -> StakingVault: the prefix of the generated files and classes.
const pascal = (name) =>
  name
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

const contracts = readdirSync(schemaDir)
  .filter((entry) => statSync(join(schemaDir, entry)).isDirectory())
  .sort()
  .map((entry) => ({ name: pascal(entry), dir: join(schemaDir, entry) }));
if (contracts.length === 0) {
  console.error(`error: no contract schema directories in ${schemaDir}`);
  process.exit(1);
}

rmSync(outDir, { recursive: true, force: true });
// The package is CommonJS: its default export is under `.default` when imported from ESM.
await tsCodegen.default({
  contracts,
  outPath: outDir,
  options: {
    // generated/index.ts re-exports every contract as contracts.<Name>.
    bundle: { enabled: true, bundleFile: "index.ts", scope: "contracts" },
    types: { enabled: true },
    client: { enabled: true },
  },
});
console.log(
  `generated clients for ${contracts.map((c) => c.name).join(", ")} in ${outDir}`,
);
