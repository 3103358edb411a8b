/**
 * The KQL gate's snapshot build, run detached at low priority by src/verify/kql-gate-snapshot.ts
 * when a run found no usable snapshot: `node kql-gate-build.js WORK`, WORK the private folder the
 * job was written to. It builds the blob, checks a child started from it against the in-process
 * parser's answers, and renames it into the cache folder; it prints nothing and always exits 0
 * (a failed build only means the next run checks in-process and tries again).
 */
import { runBuildJob } from './kql-gate-snapshot.js'

const work = process.argv[2]
if (work) runBuildJob(work)
