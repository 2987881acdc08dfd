#!/usr/bin/env python3
"""Train an agent's model with scikit-learn instead of `edgewarden train`.

For users who prefer a Python environment. Input is the CSV `edgewarden features` prints (the
agent's own window features, computed by the agent's own code). The model is a scikit-learn
Pipeline(StandardScaler, IsolationForest), exported with skl2onnx, with a manifest.json the
agent's model loader reads: its `output` maps skl2onnx's `scores` (score_samples - offset_)
to edgewarden's anomaly score (-score_samples, higher is more anomalous).

    edgewarden features --agent wifi --input export.jsonl.gz > features.csv
    python training/train_sklearn.py --agent wifi --features features.csv --out model-dir

With --score CSV --scores-out FILE it also writes scikit-learn's own score_samples for the
rows of CSV, as JSON (the compatibility checks compare them with onnxruntime's).
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import sys

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import to_onnx


def read_features(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2 or rows[0][:2] != ["device", "window_start"]:
        sys.exit(f"{path}: not the CSV `edgewarden features` prints (device, window_start, ...)")
    names = rows[0][2:]
    X = np.array([[float(v) for v in r[2:]] for r in rows[1:]], dtype=np.float32)
    return names, X, [r[1] for r in rows[1:]]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", required=True)
    p.add_argument("--features", required=True, help="training CSV from `edgewarden features`")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--sample-size", default="auto")
    p.add_argument("--contamination", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--version")
    p.add_argument("--score", help="a features CSV to score with scikit-learn")
    p.add_argument("--scores-out", help="where to write its score_samples, as JSON")
    a = p.parse_args()

    names, X, starts = read_features(a.features)
    sample = a.sample_size if a.sample_size == "auto" else int(a.sample_size)
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("forest", IsolationForest(n_estimators=a.trees, max_samples=sample,
                                   contamination=a.contamination, random_state=a.seed)),
    ])
    pipe.fit(X)
    offset = float(pipe.named_steps["forest"].offset_)
    model = to_onnx(pipe, X[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    data = model.SerializeToString()
    sha = hashlib.sha256(data).hexdigest()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.onnx"), "wb") as f:
        f.write(data)
    # The threshold on edgewarden's scale: -offset_ is where decision_function crosses 0.
    manifest = {
        "version": a.version or f"{a.agent}-sklearn-{sha[:12]}",
        "agent": a.agent,
        "features": names,
        "threshold": round(-offset, 7),
        "sha256": sha,
        "output": {"name": "scores", "scale": -1, "shift": -offset},
        "trainingRows": int(X.shape[0]),
        "timeRange": {"from": min(starts), "to": max(starts)},
        "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "trainer": {"name": "scikit-learn IsolationForest (training/train_sklearn.py)",
                    "trees": a.trees, "sampleSize": sample, "contamination": a.contamination,
                    "seed": a.seed},
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    if a.score:
        _, T, _ = read_features(a.score)
        scores = pipe.score_samples(T).tolist()
        with open(a.scores_out, "w") as f:
            json.dump(scores, f)
    print(f"trained {manifest['version']} on {X.shape[0]} windows; wrote {a.out}")


if __name__ == "__main__":
    main()
