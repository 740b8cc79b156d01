"""Prints a SARIF log's versionControlProvenance on one line; the revision
reads HEAD when it is the commit in <head file>.

    provenance.py <log.sarif> <head file>
"""
import json
import sys

log = json.load(open(sys.argv[1]))
head = open(sys.argv[2]).read().strip()
for vc in log["runs"][0].get("versionControlProvenance", []):
    print("repositoryUri=%s revision=%s branch=%s mappedTo=%s" % (
        vc["repositoryUri"], "HEAD" if vc["revisionId"] == head else vc["revisionId"],
        vc.get("branch", "none"), vc.get("mappedTo", {}).get("uriBaseId", "none")))
