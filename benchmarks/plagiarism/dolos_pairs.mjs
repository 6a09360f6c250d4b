// Runs Dolos (npm @dodona/dolos-lib) on a set of Python files and prints, as JSON,
// the metrics of the requested pairs (or of all pairs) and how long the analysis took.
// Usage: node dolos_pairs.mjs REQUEST.json > RESULT.json
//   REQUEST = {"files": [path, ...], "pairs": [[pathA, pathB], ...] | null,
//              "kgramLength": n?, "kgramsInWindow": n?}
// Dolos is found in $DOLOS_DIR (default ~/.cache/mle-auditor/dolos), installed by setup-dolos.sh.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const dolosDir = process.env.DOLOS_DIR || join(homedir(), ".cache", "mle-auditor", "dolos");
const { Dolos } = await import(join(dolosDir, "node_modules", "@dodona", "dolos-lib", "dist", "index.js"));

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const options = { language: "python" };
if (request.kgramLength) options.kgramLength = request.kgramLength;
if (request.kgramsInWindow) options.kgramsInWindow = request.kgramsInWindow;

const started = process.hrtime.bigint();
const report = await new Dolos(options).analyzePaths(request.files);
const analysed = process.hrtime.bigint();

const byPath = new Map(report.files.map((f) => [f.path, f]));
const metrics = (pair, a, b) => ({
  left: a, right: b, similarity: pair.similarity, longest: pair.longest,
  leftCovered: pair.leftCovered, rightCovered: pair.rightCovered,
  leftTotal: pair.leftTotal, rightTotal: pair.rightTotal,
});
const out = [];
if (request.pairs) {
  for (const [a, b] of request.pairs) {
    const fa = byPath.get(a), fb = byPath.get(b);
    if (!fa || !fb) { out.push({ left: a, right: b, similarity: 0, missing: true }); continue; }
    out.push(metrics(report.getPair(fa, fb), a, b));
  }
} else {
  for (const pair of report.allPairs()) out.push(metrics(pair, pair.leftFile.path, pair.rightFile.path));
}
const done = process.hrtime.bigint();
process.stdout.write(JSON.stringify({
  analyse_seconds: Number(analysed - started) / 1e9,
  pairs_seconds: Number(done - analysed) / 1e9,
  files: report.files.length,
  pairs: out,
}));
