"""Will the request get pizza? Request text TF-IDF plus requester activity at request
time (no retrieval-time fields, no giver leak), gradient boosting, ROC AUC."""
import json
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import cross_val_score

with open("/home/data/train.json") as fh:
    records = pd.DataFrame(json.load(fh))
with open("/home/data/test.json") as fh:
    unseen = pd.DataFrame(json.load(fh))

numeric = [c for c in unseen.columns if c.endswith("_at_request") and unseen[c].dtype != object]
def body(df):
    return (df["request_title"].fillna("") + " " + df["request_text_edit_aware"].fillna("")).str.lower()

tfidf = TfidfVectorizer(min_df=3, max_features=3000, stop_words="english")
design = hstack([tfidf.fit_transform(body(records)), csr_matrix(np.log1p(records[numeric].clip(lower=0).values))]).tocsr()
design_unseen = hstack([tfidf.transform(body(unseen)), csr_matrix(np.log1p(unseen[numeric].clip(lower=0).values))]).tocsr()
outcome = records["requester_received_pizza"].astype(int).values

booster = GradientBoostingClassifier(n_estimators=300, max_depth=3, subsample=0.8, random_state=1)
print("cv auc", cross_val_score(booster, design, outcome, cv=4, scoring="roc_auc").mean())
booster.fit(design, outcome)
pd.DataFrame({"request_id": unseen["request_id"], "requester_received_pizza": booster.predict_proba(design_unseen)[:, 1]}).to_csv(
    "/home/submission/submission.csv", index=False)
