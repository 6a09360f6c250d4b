"""Leaf species from the pre-extracted margin/shape/texture features: scaled
features, a regularised multinomial logistic regression, stratified CV."""
from pathlib import Path
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATA = Path("/home/data")
frame = pd.read_csv(DATA / "train.csv")
holdout = pd.read_csv(DATA / "test.csv")
species = sorted(frame["species"].unique())
target = frame["species"].map({s: i for i, s in enumerate(species)}).to_numpy()
columns = [c for c in frame.columns if c.startswith(("margin", "shape", "texture"))]

pipe = make_pipeline(StandardScaler(), LogisticRegression(C=30.0, max_iter=3000))
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
oof = cross_val_predict(pipe, frame[columns], target, cv=folds, method="predict_proba")
print("oof log loss", log_loss(target, oof))

pipe.fit(frame[columns], target)
proba = np.clip(pipe.predict_proba(holdout[columns]), 1e-4, 1 - 1e-4)
proba /= proba.sum(axis=1, keepdims=True)
out = pd.DataFrame(proba, columns=species)
out.insert(0, "id", holdout["id"].to_numpy())
out.to_csv("/home/submission/submission.csv", index=False)
