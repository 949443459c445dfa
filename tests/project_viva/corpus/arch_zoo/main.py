import argparse
import json

import torch
import torch.nn as nn

from models import *
from data import make_loaders
from trainer import train_one_epoch, run_eval

p = argparse.ArgumentParser()
p.add_argument('--model', type=str, default='vgg', help='cnn | vgg | resnet')
p.add_argument('--epochs', type=int, default=25)
p.add_argument('--batch_size', type=int, default=100)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--wd', type=float, default=1e-4)
p.add_argument('--out', type=str, default='best.pt')
args = p.parse_args()

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# net = SimpleCNN()
# net = VGG('VGG11')
if args.model == 'resnet':
    net = PreActResNet18()
elif args.model == 'vgg':
    net = VGG('VGG16')
else:
    net = SimpleCNN()
net = net.to(device)
print(net.__class__.__name__, sum(p.numel() for p in net.parameters()))

train_loader, val_loader, test_loader = make_loaders(args.batch_size)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=args.wd)
# optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)

log = []
best_val = 0.0
for epoch in range(1, args.epochs + 1):
    tr_loss, tr_acc = train_one_epoch(net, train_loader, optimizer, criterion, device)
    va_loss, va_acc = run_eval(net, val_loader, criterion, device)
    scheduler.step()
    print(f'[{epoch}/{args.epochs}] train {tr_loss:.4f}/{tr_acc:.4f}  val {va_loss:.4f}/{va_acc:.4f}')
    log.append(dict(epoch=epoch, tr_loss=tr_loss, tr_acc=tr_acc, va_loss=va_loss, va_acc=va_acc))
    if va_acc > best_val:
        best_val = va_acc
        torch.save(net.state_dict(), args.out)

net.load_state_dict(torch.load(args.out, map_location=device, weights_only=True))
te_loss, te_acc = run_eval(net, test_loader, criterion, device)
print('TEST acc of best-val model:', te_acc)
with open('log.json', 'w') as f:
    json.dump(log, f, indent=1)
