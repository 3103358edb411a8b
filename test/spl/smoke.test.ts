import { describe, it, expect } from 'vitest'
import { processRule, compileOk } from './helpers.js'
describe('smoke', () => {
  it('prints', () => {
    const r = processRule(`sel:
  Image|endswith: '\\sc.exe'
  CommandLine|contains|all: [' stop ', 'svc?']
  CommandLine|re: 'stop\\s+\\w+$'
  ParentImage: [ 'a', 'b*' ]
  User|cased: Admin
  Count|gt: 5
  Dst|cidr: 10.0.0.0/8
  X|fieldref: Y
filter:
  Image: null`, 'sel and not filter')
    console.log(compileOk(r))
  })
})
