// Validates SARIF logs against the SARIF 2.1.0 JSON schema (the copy that
// @microsoft/jest-sarif ships, draft-04) and against the constraints GitHub
// code scanning documents for uploads.
//   node validate_sarif.js <log.sarif>...
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");

const schemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
// unicodeRegExp off: the schema's "language" pattern has a stray "]" that
// only a non-Unicode regular expression accepts.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

let failed = false;
for (const file of process.argv.slice(2)) {
  const log = JSON.parse(fs.readFileSync(file, "utf8"));
  const problems = [];
  let related = 0, flows = 0;
  if (!validate(log))
    for (const e of validate.errors) problems.push("schema: " + e.instancePath + " " + e.message);
  // GitHub code scanning: version 2.1.0, a driver name, every result with a
  // rule id, a message text and a physical location with a start line.
  if (log.version !== "2.1.0") problems.push("version is not 2.1.0");
  for (const run of log.runs || []) {
    if (!run.tool || !run.tool.driver || !run.tool.driver.name) problems.push("run without tool.driver.name");
    const ruleIds = new Set((run.tool.driver.rules || []).map((r) => r.id));
    // Code scanning shows a rule's short description in lists and its full
    // one on the alert, and files alerts by tags, precision and severity.
    for (const rule of run.tool.driver.rules || []) {
      const p = rule.properties || {};
      if (!Array.isArray(p.tags) || !p.tags.length || !p.precision || !p["problem.severity"])
        problems.push("rule " + rule.id + " without tags, precision or problem.severity");
      if (!rule.shortDescription || !rule.fullDescription ||
          rule.shortDescription.text === rule.fullDescription.text ||
          !rule.fullDescription.text.startsWith(rule.shortDescription.text.replace(/\.$/, "")))
        problems.push("rule " + rule.id + " has the same short and full description, or a full one " +
                      "that does not start with the short one");
      if (!/^https:\/\//.test(rule.helpUri || ""))
        problems.push("rule " + rule.id + " without a helpUri");
    }
    for (const r of run.results || []) {
      if (!r.ruleId || !ruleIds.has(r.ruleId)) problems.push("result with unknown ruleId " + r.ruleId);
      if (!r.message || !r.message.text) problems.push("result without message text");
      const pl = r.locations && r.locations[0] && r.locations[0].physicalLocation;
      if (!pl || !pl.artifactLocation || !pl.artifactLocation.uri || !pl.region || !pl.region.startLine)
        problems.push("result without a physical location and start line");
      if (!r.partialFingerprints || !Object.keys(r.partialFingerprints).length)
        problems.push("result without partialFingerprints");
      // Code scanning links a related location only when the message
      // references it as [text](id).
      for (const rl of r.relatedLocations || [])
        if (!r.message.text.includes("](" + rl.id + ")"))
          problems.push("related location " + rl.id + " not referenced in the message of " + r.ruleId);
      related += (r.relatedLocations || []).length;
      // Code flows (races): every step a located, explained place, and the
      // first thread flow ends at the result's own location.
      for (const cf of r.codeFlows || []) {
        ++flows;
        for (const tf of cf.threadFlows) {
          for (const step of tf.locations) {
            const spl = step.location && step.location.physicalLocation;
            if (!spl || !spl.region || !spl.region.startLine || !step.location.message)
              problems.push("code flow step without a located message in " + r.ruleId);
          }
        }
        const first = cf.threadFlows[0].locations;
        const last = first[first.length - 1].location.physicalLocation;
        if (!pl || last.artifactLocation.uri !== pl.artifactLocation.uri ||
            last.region.startLine !== pl.region.startLine || last.region.startColumn !== pl.region.startColumn)
          problems.push("first thread flow of " + r.ruleId + " does not end at the result");
      }
    }
  }
  const n = (log.runs || []).reduce((s, r) => s + (r.results || []).length, 0);
  if (problems.length) {
    failed = true;
    console.log(path.basename(file) + ": INVALID");
    for (const p of problems) console.log("  " + p);
  } else {
    const vcp = (log.runs[0] || {}).versionControlProvenance;
    console.log(path.basename(file) + ": valid SARIF 2.1.0, " + n + " results, " + related +
                " linked related locations" + (vcp ? ", revision " + vcp[0].revisionId +
                (vcp[0].mappedTo ? " mapped to " + vcp[0].mappedTo.uriBaseId : "") : "") +
                (flows ? ", code flows: " + flows : ""));
  }
}
process.exit(failed ? 1 : 0);
