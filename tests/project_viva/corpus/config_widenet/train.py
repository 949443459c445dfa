import os
import sys
import random
import yaml
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as transforms

CONFIG_PATH = sys.argv[1] if len(sys.argv) > 1 else 'config.yaml'
with open(CONFIG_PATH) as f:
    cfg = yaml.safe_load(f)
print(cfg)


def set_seed(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)
    torch.cuda.manual_seed_all(s)


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin, cout, stride=1):
        super().__init__(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class WideNet(nn.Module):
    """stack of conv stages, each stage halves resolution (except the first)"""

    def __init__(self, widths, blocks_per_stage, dropout=0.0, num_classes=10):
        super().__init__()
        layers = [ConvBNReLU(3, widths[0])]
        cin = widths[0]
        for i, w in enumerate(widths):
            for b in range(blocks_per_stage):
                stride = 2 if (b == 0 and i > 0) else 1
                layers.append(ConvBNReLU(cin, w, stride))
                cin = w
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.body(x)
        x = self.pool(x).flatten(1)
        return self.head(self.drop(x))


class PlainNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 8 * 8, num_classes))

    def forward(self, x):
        return self.net(x)


def build_model(cfg):
    if cfg['model'] == 'widenet':
        widths = [cfg['base_width'] * (2 ** i) for i in range(cfg['stages'])]
        return WideNet(widths, cfg['blocks_per_stage'], dropout=cfg['dropout'])
    elif cfg['model'] == 'plain':
        return PlainNet()
    raise ValueError(cfg['model'])


set_seed(cfg['seed'])
device = 'cuda' if torch.cuda.is_available() else 'cpu'

normalize = transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
train_tf = transforms.Compose([
    transforms.RandomCrop(32, padding=4),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    normalize,
])
test_tf = transforms.Compose([transforms.ToTensor(), normalize])

train_set = torchvision.datasets.CIFAR10(cfg['data_dir'], train=True, download=True, transform=train_tf)
test_set = torchvision.datasets.CIFAR10(cfg['data_dir'], train=False, download=True, transform=test_tf)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=cfg['batch_size'], shuffle=True,
                                           num_workers=cfg['num_workers'])
test_loader = torch.utils.data.DataLoader(test_set, batch_size=256, shuffle=False,
                                          num_workers=cfg['num_workers'])

model = build_model(cfg).to(device)
print(model)
optimizer = torch.optim.SGD(model.parameters(), lr=cfg['lr'], momentum=cfg['momentum'],
                            weight_decay=cfg['weight_decay'])
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg['epochs'])
criterion = nn.CrossEntropyLoss()

out_dir = os.path.join('runs', cfg['experiment'])
os.makedirs(out_dir, exist_ok=True)

best_acc = 0.0
for epoch in range(cfg['epochs']):
    model.train()
    total_loss = 0
    for it, (x, y) in enumerate(train_loader):
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.item()

    # evaluate
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test_loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
    acc = correct / len(test_set)
    print('epoch', epoch, 'loss', total_loss / len(train_loader), 'acc', acc)

    if acc > best_acc:
        best_acc = acc
        torch.save({'model': model.state_dict(), 'cfg': cfg, 'epoch': epoch, 'acc': acc},
                   os.path.join(out_dir, 'best.pt'))

print('best test acc: %.4f' % best_acc)
