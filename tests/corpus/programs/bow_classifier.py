# A bag-of-words logistic regression that tells Spanish from English sentences.
# Adapted from pytorch/tutorials, beginner_source/nlp/deep_learning_tutorial.py (BSD-3-Clause, see README.md).
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

data = [("me gusta comer en la cafeteria".split(), "SPANISH"),
        ("Give it to me".split(), "ENGLISH"),
        ("No creo que sea una buena idea".split(), "SPANISH"),
        ("No it is not a good idea to get lost at sea".split(), "ENGLISH")]
test_data = [("Yo creo que si".split(), "SPANISH"),
             ("it is lost on me".split(), "ENGLISH")]

word_to_ix = {}
for sent, _ in data + test_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
print(len(word_to_ix), "words")
label_to_ix = {"SPANISH": 0, "ENGLISH": 1}


class BoWClassifier(nn.Module):
    def __init__(self, num_labels, vocab_size):
        super(BoWClassifier, self).__init__()
        self.linear = nn.Linear(vocab_size, num_labels)

    def forward(self, bow_vec):
        return F.log_softmax(self.linear(bow_vec), dim=1)


def make_bow_vector(sentence, word_to_ix):
    vec = torch.zeros(len(word_to_ix))
    for word in sentence:
        vec[word_to_ix[word]] += 1
    return vec.view(1, -1)


def make_target(label, label_to_ix):
    return torch.LongTensor([label_to_ix[label]])


model = BoWClassifier(2, len(word_to_ix))
for param in model.parameters():
    print(param.shape)

with torch.no_grad():
    for instance, label in test_data:
        log_probs = model(make_bow_vector(instance, word_to_ix))
        print(log_probs)
    print(next(model.parameters())[:, word_to_ix["creo"]])

loss_function = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    total = 0.0
    for instance, label in data:
        model.zero_grad()
        bow_vec = make_bow_vector(instance, word_to_ix)
        target = make_target(label, label_to_ix)
        log_probs = model(bow_vec)
        loss = loss_function(log_probs, target)
        loss.backward()
        optimizer.step()
        total += loss.item()
    if epoch % 20 == 0:
        print("epoch", epoch, "loss", total)

with torch.no_grad():
    for instance, label in test_data:
        log_probs = model(make_bow_vector(instance, word_to_ix))
        print(log_probs, log_probs.argmax(dim=1).item())
print(next(model.parameters())[:, word_to_ix["creo"]])
