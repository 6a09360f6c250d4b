"""Russian text normalisation: a frequency table of before -> after from training,
backed off to lower case, then identity."""
import csv
from collections import Counter, defaultdict

table = defaultdict(Counter)
with open("/home/data/ru_train.csv", encoding="utf-8") as fh:
    for row in csv.DictReader(fh):
        table[row["before"]][row["after"]] += 1
        table[row["before"].lower()][row["after"]] += 1
best = {k: v.most_common(1)[0][0] for k, v in table.items()}

with open("/home/data/ru_test_2.csv", encoding="utf-8") as src, open("/home/submission/submission.csv", "w", encoding="utf-8", newline="") as dst:
    out = csv.writer(dst)
    out.writerow(["id", "after"])
    for row in csv.DictReader(src):
        token = row["before"]
        out.writerow([f"{row['sentence_id']}_{row['token_id']}", best.get(token, best.get(token.lower(), token))])
