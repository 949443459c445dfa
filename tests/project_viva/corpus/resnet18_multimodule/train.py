'''Train CIFAR10 with PyTorch.'''
import argparse
import os
import time

import torch
import torch.nn as nn
import torch.optim as optim

from models import *
from utils import *


def parse_args():
    parser = argparse.ArgumentParser(description='PyTorch CIFAR10 Training')
    parser.add_argument('--lr', default=0.1, type=float, help='learning rate')
    parser.add_argument('--epochs', default=200, type=int)
    parser.add_argument('--bs', default=128, type=int, help='batch size')
    parser.add_argument('--checkpoint', default='checkpoint/ckpt.pth', type=str)
    parser.add_argument('--arch', default='resnet18', choices=['resnet18', 'resnet34'])
    return parser.parse_args()


def build_model(arch):
    if arch == 'resnet34':
        return ResNet34()
    return ResNet18()


def train_one_epoch(net, loader, criterion, optimizer, device, epoch):
    meter = AverageMeter()
    correct = 0
    total = 0
    start = time.time()
    for batch_idx, (inputs, targets) in enumerate(loader):
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()

        meter.update(loss.item(), inputs.size(0))
        _, predicted = outputs.max(1)
        total += targets.size(0)
        correct += predicted.eq(targets).sum().item()
        if batch_idx % 100 == 0:
            print('  [%d/%d] loss %.3f acc %.2f' % (batch_idx, len(loader), meter.avg, 100. * correct / total))
    print('Epoch %d train loss %.3f acc %.2f%% time %s' % (epoch, meter.avg, 100. * correct / total, format_time(time.time() - start)))


def main():
    args = parse_args()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    trainloader, testloader = get_dataloaders(args.bs)

    print('==> Building model..')
    net = build_model(args.arch)
    net = net.to(device)

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=200)

    start_epoch = 0
    if os.path.exists(args.checkpoint):
        # Load checkpoint.
        print('==> Resuming from checkpoint..')
        checkpoint = torch.load(args.checkpoint)
        net = build_model(args.arch).to(device)
        net.load_state_dict(checkpoint['net'])
        start_epoch = checkpoint['epoch'] + 1
        for _ in range(start_epoch):
            scheduler.step()

    for epoch in range(start_epoch, args.epochs):
        train_one_epoch(net, trainloader, criterion, optimizer, device, epoch)
        test_loss, test_acc = evaluate(net, testloader, criterion, device)
        print('Epoch %d test loss %.3f acc %.2f%%' % (epoch, test_loss, test_acc))
        scheduler.step()
        save_checkpoint({'net': net.state_dict(), 'acc': test_acc, 'epoch': epoch}, args.checkpoint)


if __name__ == '__main__':
    main()
