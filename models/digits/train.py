#!/usr/bin/env python3
"""Train the digits CNN shipped in this directory and export it to ONNX.

The data is scikit-learn's bundled handwritten digits (1,797 8 x 8 images, no download); the
training library is PyTorch. On Debian: apt-get install python3-torch python3-sklearn
python3-onnx, then run this file with /usr/bin/python3 from the repository root. It writes:

  digits.onnx        the trained model (opset 13): Conv-Relu-MaxPool twice, Flatten, Gemm
  test_images.npy    float32 N x 1 x 8 x 8, pixel values / 16, the held-out images
  test_labels.npy    int64 N, their digits
  float_accuracy.txt the float model's accuracy on them, as PyTorch computes it

Everything is seeded, so a rerun on the same library versions writes the same files.
"""

import os
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_IMAGES = 300

torch.manual_seed(0)
np.random.seed(0)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

digits = load_digits()
x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]
y = digits.target.astype(np.int64)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=TEST_IMAGES, random_state=0, stratify=y
)


class DigitsCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16 * 2 * 2, 10)

    def forward(self, v):
        v = torch.nn.functional.max_pool2d(torch.relu(self.conv1(v)), 2)
        v = torch.nn.functional.max_pool2d(torch.relu(self.conv2(v)), 2)
        return self.fc(torch.flatten(v, 1))


model = DigitsCnn()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
for epoch in range(40):
    perm = torch.randperm(len(xt))
    for i in range(0, len(xt), 64):
        idx = perm[i : i + 64]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()

model.eval()
with torch.no_grad():
    pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
acc = float((pred == y_test).mean())
print(f"float accuracy on {len(y_test)} held-out images: {100 * acc:.2f}%")

torch.onnx.export(
    model,
    torch.from_numpy(x_test[:1]),
    os.path.join(HERE, "digits.onnx"),
    input_names=["image"],
    output_names=["logits"],
    dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
    opset_version=13,
)
np.save(os.path.join(HERE, "test_images.npy"), x_test)
np.save(os.path.join(HERE, "test_labels.npy"), y_test)
with open(os.path.join(HERE, "float_accuracy.txt"), "w") as f:
    f.write(f"{100 * acc:.2f}\n")
