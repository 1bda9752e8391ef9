import random
def tax_check(d10):
    p=10
    for c in d10:
        s=(int(c)+p)%10
        if s==0: s=10
        p=(s*2)%11
    c=11-p
    return 0 if c==10 else c
def tax_ok(d):
    if len(d)!=11 or d[0]=='0': return False
    cnt=[d[:10].count(str(k)) for k in range(10)]
    rep=[c for c in cnt if c>1]
    if len(rep)!=1 or rep[0]>3: return False
    if any(d[i]==d[i+1]==d[i+2] for i in range(8)): return False
    return tax_check(d[:10])==int(d[10])
def gen_tax(r):
    while True:
        d=''.join(r.choice('0123456789') for _ in range(10))
        if d[0]=='0': continue
        d+=str(tax_check(d))
        if tax_ok(d): return d
def cs(v): return v//10+v%10
def kvnr_check(letter,d8):
    pos=ord(letter)-64
    ds=[pos//10,pos%10]+[int(c) for c in d8]
    return sum(cs(x*(1 if k%2==0 else 2)) for k,x in enumerate(ds))%10
def gen_kvnr(r):
    L=r.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ'); d=''.join(r.choice('0123456789') for _ in range(8))
    return L+d+str(kvnr_check(L,d))
W=[2,1,2,5,7,1,2,1,2,1,2,1]
def rv_check(d8,L,s2):
    pos=ord(L)-64
    ds=[int(c) for c in d8]+[pos//10,pos%10]+[int(c) for c in s2]
    return sum(cs(x*w) for x,w in zip(ds,W))%10
def gen_rvnr(r):
    area=r.choice(['04','08','10','12','13','15','16','17','18','19','20','21','23','24','25','26','28','29','38','39','40','42','43','44','45','46','47','48','49','50','51','52','53','54','55','56','57','58','59','60','61','62','63','64','65','66','67','68','69','70','71','72','73','74','75','76','77','78','79','80','81','82','89'])
    day=r.randint(1,28); mon=r.randint(1,12); yy=r.randint(0,99)
    d8=area+f"{day:02d}{mon:02d}{yy:02d}"
    L=r.choice('ABCDEFGHIJKLMNOPRSTUVWZ'); s2=f"{r.randint(0,99):02d}"
    return d8+L+s2+str(rv_check(d8,L,s2))
if __name__=='__main__':
    print(tax_ok('86095742719'),tax_ok('47036892816'),tax_check('8609574271'),tax_check('4703689281'))
    print(kvnr_check('K','94324761'), rv_check('15070649','C','10'))
