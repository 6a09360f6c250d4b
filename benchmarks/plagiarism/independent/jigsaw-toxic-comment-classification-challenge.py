"""Six toxicity labels: word and character n-gram TF-IDF, one logistic regression
per label, mean column AUC on a holdout."""
import numpy as np
import pandas as pd
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
df = pd.read_csv("/home/data/train.csv")
df_test = pd.read_csv("/home/data/test.csv")
text, text_test = df["comment_text"].fillna(""), df_test["comment_text"].fillna("")

words = TfidfVectorizer(sublinear_tf=True, max_features=50000, ngram_range=(1, 1), analyzer="word")
chars = TfidfVectorizer(sublinear_tf=True, max_features=50000, ngram_range=(2, 5), analyzer="char_wb")
matrix = hstack([words.fit_transform(text), chars.fit_transform(text)]).tocsr()
matrix_test = hstack([words.transform(text_test), chars.transform(text_test)]).tocsr()

idx_fit, idx_val = train_test_split(np.arange(matrix.shape[0]), test_size=0.1, random_state=0)
aucs, answer = [], pd.DataFrame({"id": df_test["id"]})
for label in LABELS:
    clf = LogisticRegression(C=2.0, solver="saga", max_iter=300)
    clf.fit(matrix[idx_fit], df[label].values[idx_fit])
    aucs.append(roc_auc_score(df[label].values[idx_val], clf.predict_proba(matrix[idx_val])[:, 1]))
    clf.fit(matrix, df[label].values)
    answer[label] = clf.predict_proba(matrix_test)[:, 1]
print("mean AUC", np.mean(aucs))
answer.to_csv("/home/submission/submission.csv", index=False)
