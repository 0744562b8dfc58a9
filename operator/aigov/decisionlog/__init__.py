"""The tamper-evident decision log: records, their hash chain, Merkle checkpoints, checks.

Every admission decision and every governance event becomes one JSON record whose hash
chains it to the record before; every so often the chain's RFC 6962 Merkle root is signed as
a C2SP tlog-checkpoint, so a log shipped elsewhere can be checked for records removed,
altered or reordered (`aigov log verify`).

Pure: building records, the canonical form, hashing, chain state, checkpoint text and
verification are computation only. No kopf, no kubernetes, no files, no clock reads: the
caller passes the time. The sinks and the checkpoint writer live in aigov.handlers.decisionlog.
"""
