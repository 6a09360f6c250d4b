"""Formation and bandgap energies: composition and lattice features, log targets,
one gradient-boosted model per target, RMSLE by K-fold."""
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold

train = pd.read_csv("/home/data/train.csv")
test = pd.read_csv("/home/data/test.csv")
targets = ["formation_energy_ev_natom", "bandgap_energy_ev"]

def add_features(df):
    df = df.copy()
    a, b, c = df["lattice_vector_1_ang"], df["lattice_vector_2_ang"], df["lattice_vector_3_ang"]
    df["volume"] = a * b * c
    df["density"] = df["number_of_total_atoms"] / df["volume"]
    for el in ("al", "ga", "in"):
        df[f"{el}_x_volume"] = df[f"percent_atom_{el}"] * df["volume"]
    return df.drop(columns=["id"] + [t for t in targets if t in df.columns])

X, X_test = add_features(train), add_features(test)
result = pd.DataFrame({"id": test["id"]})
for name in targets:
    y = np.log1p(train[name].to_numpy())
    errors, preds = [], np.zeros(len(X_test))
    for fit_idx, val_idx in KFold(5, shuffle=True, random_state=3).split(X):
        reg = HistGradientBoostingRegressor(learning_rate=0.05, max_iter=600, l2_regularization=0.1)
        reg.fit(X.iloc[fit_idx], y[fit_idx])
        errors.append(np.sqrt(np.mean((reg.predict(X.iloc[val_idx]) - y[val_idx]) ** 2)))
        preds += reg.predict(X_test) / 5
    print(name, "rmsle", np.mean(errors))
    result[name] = np.expm1(preds).clip(0)
result.to_csv("/home/submission/submission.csv", index=False)
