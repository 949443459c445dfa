"""
Linear probe: ImageNet ResNet-18 features + new linear head for CIFAR-10.
Only the head is trained.
"""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from torchvision.models import resnet18, ResNet18_Weights


def get_args():
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--batch-size', type=int, default=256)
    ap.add_argument('--lr', type=float, default=0.01)
    ap.add_argument('--no-flip', action='store_true', help='disable horizontal flip')
    ap.add_argument('--data', default='./data')
    return ap.parse_args()


def main():
    args = get_args()
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    train_tfms = [transforms.Resize(224)]
    if not args.no_flip:
        train_tfms.append(transforms.RandomHorizontalFlip())
    train_tfms += [transforms.ToTensor(), transforms.Normalize(mean, std)]
    train_tf = transforms.Compose(train_tfms)
    test_tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor(), transforms.Normalize(mean, std)])

    train_ds = datasets.CIFAR10(args.data, train=True, download=True, transform=train_tf)
    test_ds = datasets.CIFAR10(args.data, train=False, download=True, transform=test_tf)
    train_dl = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, num_workers=6)
    test_dl = DataLoader(test_ds, batch_size=args.batch_size, num_workers=6)

    model = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 10)
    model = model.to(device)

    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print('trainable params:', trainable)

    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.2)

    for epoch in range(args.epochs):
        model.train()
        running = 0.0
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item()
        scheduler.step()

        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in test_dl:
                x, y = x.to(device), y.to(device)
                correct += (model(x).argmax(1) == y).sum().item()
                total += y.numel()
        print(f'epoch {epoch + 1}: loss {running / len(train_dl):.4f} test acc {correct / total:.4f}')

    torch.save(model.fc.state_dict(), 'probe_head.pt')


if __name__ == '__main__':
    main()
