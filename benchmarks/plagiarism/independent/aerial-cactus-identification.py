"""Cactus or not in 32x32 aerial tiles: a small CNN in PyTorch with flips, AUC on a split."""
import numpy as np
import pandas as pd
import torch
from torch import nn
from PIL import Image
from sklearn.metrics import roc_auc_score

labels = pd.read_csv("/home/data/train.csv")
def load(folder, names):
    return np.stack([np.asarray(Image.open(f"{folder}/{n}"), dtype=np.float32) / 255.0 for n in names]).transpose(0, 3, 1, 2)

images = torch.tensor(load("/home/data/train", labels["id"]))
y = torch.tensor(labels["has_cactus"].values, dtype=torch.float32)
perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
val, fit = perm[:2000], perm[2000:]

net = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 1))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for epoch in range(8):
    net.train()
    for batch in fit[torch.randperm(len(fit))].split(128):
        xb = images[batch]
        if epoch % 2:
            xb = xb.flip(3)
        loss = nn.functional.binary_cross_entropy_with_logits(net(xb).squeeze(1), y[batch])
        opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    with torch.no_grad():
        print(epoch, roc_auc_score(y[val].numpy(), net(images[val]).squeeze(1).numpy()))

sub = pd.read_csv("/home/data/sample_submission.csv")
with torch.no_grad():
    sub["has_cactus"] = torch.sigmoid(net(torch.tensor(load("/home/data/test", sub["id"])))).squeeze(1).numpy()
sub.to_csv("/home/submission/submission.csv", index=False)
