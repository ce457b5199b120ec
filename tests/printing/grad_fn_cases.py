"""Expressions whose grad_fn name minidl gives as PyTorch does (tests/printing), each run
on both frameworks: `cases(torch, F)` maps a label to a function making the tensor."""


def cases(torch, F):  # noqa: C901 (a table)
    x=torch.randn(3,4,requires_grad=True); v=torch.randn(4,requires_grad=True)
    b3=torch.randn(2,3,4,requires_grad=True)
    c = {
 'x[0]':lambda:x[0],'x[0,1]':lambda:x[0,1],'x[:,0]':lambda:x[:,0],'x[0:2]':lambda:x[0:2],'x[:]':lambda:x[:],'x[...]':lambda:x[...],'x[None]':lambda:x[None],
 'x[[0,1]]':lambda:x[[0,1]],'x[0,1:3]':lambda:x[0,1:3],'x[x>0]':lambda:x[x>0],'x[:,None]':lambda:x[:,None],'x[1:,0]':lambda:x[1:,0],'x[0,:]':lambda:x[0,:],'x[:,:]':lambda:x[:,:],'x[...,0]':lambda:x[...,0],'x[None,0]':lambda:x[None,0],'x[:,1:]':lambda:x[:,1:],
 'mean':lambda:x.mean(),'mean0':lambda:x.mean(0),'sum':lambda:x.sum(),'sum0':lambda:x.sum(0),'max':lambda:x.max(),'max0':lambda:x.max(0)[0],'amax':lambda:x.amax(0),
 'norm':lambda:x.norm(),'norm1':lambda:x.norm(p=1),'prod':lambda:x.prod(),'unsq':lambda:x.unsqueeze(0),'sq':lambda:x[None].squeeze(0),'sq_all':lambda:x[None].squeeze(),
 'view':lambda:x.view(12),'reshape':lambda:x.reshape(4,3),'flatten':lambda:b3.flatten(1),'T':lambda:x.T,'t':lambda:x.t(),'transpose':lambda:x.transpose(0,1),'permute':lambda:b3.permute(2,0,1),
 'mm':lambda:x@x.T,'dot':lambda:v@v,'mv':lambda:x@v,'vm':lambda:v@x.T,'bmm':lambda:b3@b3.transpose(1,2),'bcast_mm':lambda:b3@x.T,
 'lin2':lambda:F.linear(x,torch.randn(5,4),torch.randn(5)),'lin2nb':lambda:F.linear(x,torch.randn(5,4)),'lin3':lambda:F.linear(b3,torch.randn(5,4),torch.randn(5)),'lin3nb':lambda:F.linear(b3,torch.randn(5,4)),'lin1':lambda:F.linear(v,torch.randn(5,4),torch.randn(5)),
 'clampmin':lambda:x.clamp(min=0),'clamp':lambda:x.clamp(0,1),'pow2':lambda:x**2,'powt':lambda:x**x,'rpow':lambda:2**x,'rsub':lambda:1-x,'rdiv':lambda:1/x,'sub':lambda:x-1,'addc':lambda:x+1,'div':lambda:x/2,
 'relu':lambda:F.relu(x),'lrelu':lambda:F.leaky_relu(x),'ce':lambda:F.cross_entropy(x,torch.tensor([0,1,2])),'mse':lambda:F.mse_loss(x,torch.zeros(3,4)),'bce':lambda:F.binary_cross_entropy(torch.sigmoid(x),torch.zeros(3,4)),
 'bcel':lambda:F.binary_cross_entropy_with_logits(x,torch.zeros(3,4)),'nll':lambda:F.nll_loss(x,torch.tensor([0,1,2])),'l1':lambda:F.l1_loss(x,torch.zeros(3,4)),'l1sum':lambda:F.l1_loss(x,torch.zeros(3,4),reduction='sum'),'msenone':lambda:F.mse_loss(x,torch.zeros(3,4),reduction='none'),
 'stack':lambda:torch.stack([x,x]),'cat':lambda:torch.cat([x,x]),'expand':lambda:v.expand(3,4),'to64':lambda:x.double(),'clone':lambda:x.clone(),'round':lambda:x.round(),'floor':lambda:x.floor(),
 'dropout':lambda:F.dropout(x,0.5),'emb':lambda:F.embedding(torch.tensor([0,1]),x),'ln':lambda:F.layer_norm(x,(4,)),'bn':lambda:F.batch_norm(x,None,None,training=True),
 'softmax':lambda:F.softmax(x,1),'logsoftmax':lambda:F.log_softmax(x,1),'where':lambda:torch.where(x>0,x,torch.zeros(3,4)),'abs':lambda:x.abs(),'sqrt':lambda:x.abs().sqrt(),'var':lambda:x.var(),'std':lambda:x.std(),
 'split':lambda:x.split(2)[0],'chunk':lambda:x.chunk(2,1)[1],'maxpool':lambda:F.max_pool2d(b3[None],2),'avgpool':lambda:F.avg_pool2d(b3[None],2),'conv':lambda:F.conv2d(b3[None],torch.randn(1,2,2,2)),
 'flip':lambda:x.flip(0),'cumsum':lambda:x.cumsum(0),'gather':lambda:x.gather(1,torch.tensor([[0],[1],[2]])),'maskfill':lambda:x.masked_fill(x>0,0.),'logsumexp':lambda:x.logsumexp(1),
 'sigmoid':lambda:x.sigmoid(),'tanh':lambda:x.tanh(),'exp':lambda:x.exp(),'neg':lambda:-x,'sumkeep':lambda:x.sum(1,keepdim=True),'contig':lambda:x.T.contiguous(),'detachmul':lambda:x.detach()*x,
 'adapt':lambda:F.adaptive_avg_pool2d(b3[None],1),'adapt2':lambda:F.adaptive_avg_pool2d(b3[None],2),'gelu':lambda:F.gelu(x),'silu':lambda:F.silu(x),'einsum':lambda:torch.einsum('ij,kj->ik',x,x),
 'min':lambda:x.min(),'topk':lambda:x.topk(2)[0],'sort':lambda:x.sort()[0],'index_select':lambda:x.index_select(0,torch.tensor([0])),
 'sigmoidF':lambda:torch.sigmoid(x),'tanhF':lambda:torch.tanh(x),'elu':lambda:F.elu(x),'softplus':lambda:F.softplus(x),'hardtanh':lambda:F.hardtanh(x),'mul_t':lambda:x*x,'add_t':lambda:x+x,'sin':lambda:x.sin(),'log':lambda:x.abs().log(),
 'repeat':lambda:x.repeat(2,1),'pad':lambda:F.pad(x,(1,1)),'maximum':lambda:torch.maximum(x,x*2),'cumprod':lambda:x.cumprod(0),'tril':lambda:x.tril(),'trace':lambda:x.trace(),'outer':lambda:torch.outer(v,v),
 'clamp_max':lambda:torch.clamp(x,max=1.0),'sumdtype':lambda:x.sum(dtype=torch.float64),'float':lambda:x.float(),'narrow':lambda:x.narrow(0,0,2),'sq_dim_neg':lambda:x[None].squeeze(-3),
 'smoothl1':lambda:F.smooth_l1_loss(x,torch.zeros(3,4)),'normalize':lambda:F.normalize(x),'lstm_like':lambda:torch.sigmoid(x)*torch.tanh(x),
    }
    return c
