package yamlx
import ("testing";"os";"path/filepath";"math/rand";"bytes";"time";"fmt")
func TestZZDup(t *testing.T){
 names,_:=filepath.Glob("../../testdata/corpus/*.yaml")
 r:=rand.New(rand.NewSource(2))
 cmp,diff,dupn:=0,0,0
 deadline:=time.Now().Add(40*time.Second)
 for time.Now().Before(deadline) {
  src,_:=os.ReadFile(names[r.Intn(len(names))])
  lines:=bytes.SplitAfter(src,[]byte("\n"))
  if len(lines)<3 {continue}
  nm := 1+r.Intn(3)
  for m:=0;m<nm;m++{
   i:=r.Intn(len(lines)); j:=r.Intn(len(lines))
   if r.Intn(2)==0 { j = i+1+r.Intn(3); if j>len(lines){j=len(lines)} }
   nl:=append([][]byte{},lines[:j]...); nl=append(nl,lines[i]); nl=append(nl,lines[j:]...); lines=nl
  }
  s:=bytes.Join(lines,nil)
  _,e1:=Parse(s); _,e2:=parseV3(s)
  cmp++
  if e1!=nil { if ye,ok:=e1.(*Error);ok&&ye.Kind==ErrDuplicateKey {dupn++} }
  if fmt.Sprint(e1)!=fmt.Sprint(e2) { diff++; if diff<6 {t.Logf("fast=%v general=%v",e1,e2)} }
 }
 t.Logf("compared %d differ %d dups %d", cmp, diff, dupn)
}
