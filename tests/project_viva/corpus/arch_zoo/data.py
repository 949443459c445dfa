import torch
from torch.utils.data import DataLoader, Subset
import torchvision
import torchvision.transforms as T

NORM = T.Normalize(mean=[0.491, 0.482, 0.447], std=[0.247, 0.243, 0.262])


def make_loaders(batch_size, root='~/datasets/cifar10'):
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), NORM])
    test_tf = T.Compose([T.ToTensor(), NORM])

    train_set = torchvision.datasets.CIFAR10(root, train=True, download=True, transform=train_tf)
    test_set = torchvision.datasets.CIFAR10(root, train=False, download=True, transform=test_tf)

    # hold out last 5k images for validation
    val_set = Subset(train_set, list(range(45000, 50000)))

    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=4, drop_last=False)
    val_loader = DataLoader(val_set, batch_size=500, shuffle=False, num_workers=2)
    test_loader = DataLoader(test_set, batch_size=500, shuffle=False, num_workers=2)
    print('train %d / val %d / test %d' % (len(train_set), len(val_set), len(test_set)))
    return train_loader, val_loader, test_loader
