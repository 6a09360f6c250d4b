"""English text normalisation: most frequent 'after' per (class, before) seen in
training, digits spelled out by a small number speller, else the token unchanged."""
from collections import Counter, defaultdict
import pandas as pd

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

def speak(n):
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + speak(n % 100))
    return speak(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + speak(n % 1000))

seen = defaultdict(Counter)
for chunk in pd.read_csv("/home/data/en_train.csv", chunksize=500_000):
    for before, after in zip(chunk["before"].astype(str), chunk["after"].astype(str)):
        seen[before][after] += 1
lookup = {b: c.most_common(1)[0][0] for b, c in seen.items()}

test = pd.read_csv("/home/data/en_test_2.csv")
def normalise(token):
    if token in lookup:
        return lookup[token]
    if token.isdigit() and len(token) < 7:
        return speak(int(token))
    return token
test["id"] = test["sentence_id"].astype(str) + "_" + test["token_id"].astype(str)
test["after"] = test["before"].astype(str).map(normalise)
test[["id", "after"]].to_csv("/home/submission/submission.csv", index=False)
