# cifar10 fast training w/ mixed precision
# TODO clean this up before submitting

import torch, torchvision, time
import torch.nn as nn
import torchvision.transforms as T

epochs = 15
bs = 256
lr = 2e-3
gamma = 0.97
log_every = 50

tr = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ColorJitter(0.2, 0.2, 0.2), T.ToTensor(),
                T.Normalize([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])])
te = T.Compose([T.ToTensor(), T.Normalize([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])])

trainset = torchvision.datasets.CIFAR10('/data/cifar', train=True, transform=tr, download=True)
testset = torchvision.datasets.CIFAR10('/data/cifar', train=False, transform=te, download=True)
trainloader = torch.utils.data.DataLoader(trainset, bs, shuffle=True, num_workers=8, pin_memory=True, drop_last=False)
testloader = torch.utils.data.DataLoader(testset, 1000, num_workers=8)


def conv_bn(ci, co):
    return nn.Sequential(nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU(inplace=True))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            conv_bn(3, 64), conv_bn(64, 64), nn.MaxPool2d(2),
            conv_bn(64, 128), conv_bn(128, 128), nn.MaxPool2d(2),
            conv_bn(128, 256), conv_bn(256, 256), nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        x = self.f(x)
        x = torch.amax(x, dim=(2, 3))
        return self.fc(x)


net = Net().cuda()
opt = torch.optim.Adam(net.parameters(), lr=lr)
sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)
lossf = nn.CrossEntropyLoss()
scaler = torch.cuda.amp.GradScaler()
print('params', sum(p.numel() for p in net.parameters()))

t_start = time.time()
for ep in range(epochs):
    net.train()
    n = 0; tot = 0.; corr = 0
    for i, (x, y) in enumerate(trainloader):
        x = x.cuda(non_blocking=True); y = y.cuda(non_blocking=True)
        with torch.cuda.amp.autocast():
            out = net(x)
            loss = lossf(out, y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        tot += loss.item() * len(y); n += len(y)
        corr += (out.argmax(1) == y).sum().item()
        if i % log_every == 0:
            print(ep, i, round(loss.item(), 4))
    sched.step()

    net.eval()
    c = 0
    with torch.no_grad(), torch.cuda.amp.autocast():
        for x, y in testloader:
            x, y = x.cuda(), y.cuda()
            c += (net(x).argmax(1) == y).sum().item()
    print('ep %d train_loss %.3f train_acc %.3f test_acc %.4f lr %.5f time %.0f' % (
        ep, tot / n, corr / n, c / len(testset), sched.get_last_lr()[0], time.time() - t_start))

torch.save(net.state_dict(), 'net_amp.pth')
