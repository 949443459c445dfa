#!/usr/bin/env python
# Small ResNet for CIFAR-10, one-cycle schedule.
# Got ~93% after 30 epochs on a 3060.

import os
import time
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
import torchvision
from torchvision import transforms

SEED = 0
EPOCHS = 30
BATCH_SIZE = 128
MAX_LR = 0.1
WEIGHT_DECAY = 5e-4
CKPT = 'resnet_small.pt'
RESUME = False

torch.manual_seed(SEED)
device = 'cuda' if torch.cuda.is_available() else 'cpu'


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class SmallResNet(nn.Module):
    def __init__(self, num_blocks=(2, 2, 2), num_classes=10):
        super().__init__()
        self.in_planes = 32
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
        )
        self.layer1 = self._make_layer(32, num_blocks[0], 1)
        self.layer2 = self._make_layer(64, num_blocks[1], 2)
        self.layer3 = self._make_layer(128, num_blocks[2], 2)
        self.fc = nn.Linear(128, num_classes)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.stem(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.log_softmax(self.fc(x), dim=1)


def get_loaders():
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    train_tf = transforms.Compose([
        transforms.RandomCrop(32, padding=4, padding_mode='reflect'),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])
    test_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    train_ds = torchvision.datasets.CIFAR10('data', train=True, download=True, transform=train_tf)
    test_ds = torchvision.datasets.CIFAR10('data', train=False, download=True, transform=test_tf)
    train_dl = DataLoader(train_ds, BATCH_SIZE, shuffle=True, num_workers=4, pin_memory=True)
    test_dl = DataLoader(test_ds, 512, shuffle=False, num_workers=4, pin_memory=True)
    return train_dl, test_dl


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss_sum += F.nll_loss(out, y, reduction='sum').item()
        correct += (out.argmax(1) == y).sum().item()
        total += y.size(0)
    return loss_sum / total, correct / total


def main():
    train_dl, test_dl = get_loaders()
    model = SmallResNet().to(device)
    if RESUME and os.path.exists(CKPT):
        model.load_state_dict(torch.load(CKPT, map_location=device, weights_only=True))
        print('loaded', CKPT)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f'{n_params:,} trainable params')

    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=MAX_LR, momentum=0.9,
                                weight_decay=WEIGHT_DECAY, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR, epochs=EPOCHS,
                                                steps_per_epoch=len(train_dl))

    for epoch in range(EPOCHS):
        model.train()
        t = time.time()
        tr_loss, n = 0.0, 0
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            sched.step()
            tr_loss += loss.item() * y.size(0)
            n += y.size(0)
        te_loss, te_acc = evaluate(model, test_dl)
        print(f'ep {epoch+1:02d} lr {sched.get_last_lr()[0]:.4f} train {tr_loss/n:.3f} '
              f'test {te_loss:.3f} acc {te_acc*100:.2f}% ({time.time()-t:.0f}s)')

    torch.save(model.state_dict(), CKPT)
    # sanity check the saved file
    model2 = SmallResNet().to(device)
    model2.load_state_dict(torch.load(CKPT, map_location=device, weights_only=True))
    print('reloaded acc', evaluate(model2, test_dl)[1])


if __name__ == '__main__':
    main()
