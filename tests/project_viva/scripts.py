"""Training scripts written the way students write them, built from one template whose parts a
test replaces (the model, the training step, the evaluation, the data), so each detector is tried
on the defect, on the correct code, and on harmless look-alikes that differ by a line."""

from __future__ import annotations

from textwrap import dedent, indent

from project_viva.analysis import Analysis, analyse
from project_viva.sources import Project, SourceFile

HEADER = """\
import argparse
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision
import torchvision.transforms as transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
"""

DATA = """\
train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
test_tf = transforms.Compose([transforms.ToTensor()])
trainset = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=train_tf)
testset = torchvision.datasets.CIFAR10("data", train=False, download=True, transform=test_tf)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=128, shuffle=True)
testloader = torch.utils.data.DataLoader(testset, batch_size=256, shuffle=False)
"""

MODEL = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 16 * 16, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(self.drop(x.flatten(1)))


model = Net().to(device)
"""

SETUP = """\
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
"""

TRAIN = """\
def train_epoch():
    model.train()
    running = 0.0
    for inputs, targets in trainloader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        running += loss.item()
    return running / len(trainloader)
"""

EVALUATE = """\
def evaluate(loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            correct += (model(inputs).argmax(1) == targets).sum().item()
    return correct / len(loader.dataset)
"""

LOOP = """\
for epoch in range(30):
    train_epoch()
    scheduler.step()
    print(epoch, evaluate(testloader))
"""

PARTS = {"header": HEADER, "data": DATA, "model": MODEL, "setup": SETUP, "train": TRAIN, "evaluate": EVALUATE, "loop": LOOP}


def script(**replace: str) -> str:
    """The template with some parts replaced (each part is dedented)."""
    parts = {**PARTS, **{name: dedent(text) for name, text in replace.items()}}
    return "\n\n".join(parts[name].rstrip("\n") for name in PARTS) + "\n"


def line_of(code: str, text: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `text`."""
    hits = [number for number, line in enumerate(code.splitlines(), start=1) if text in line]
    return hits[occurrence - 1]


def project(files: dict[str, str], configs: dict | None = None) -> Project:
    built = Project("test", {path: SourceFile(path, text) for path, text in files.items()})
    built.configs.update(configs or {})
    return built


def run(code: str, measure: bool = False, **files: str) -> Analysis:
    """Analyse `code` as train.py (with extra modules by name), reading only, unless measure."""
    sources = {"train.py": code, **{f"{name.replace('__', '/')}.py": text for name, text in files.items()}}
    return analyse(project(sources), measure_model=measure)


def kinds(analysis: Analysis) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for finding in analysis.findings:
        found.setdefault(finding.kind, []).append(finding.location.line)
    return found


def block(text: str, spaces: int = 4) -> str:
    return indent(dedent(text), " " * spaces)
