/**
 * `nft -j list ruleset` (nftables 1.0.6) after loading the tables of richVpc(),
 * captured from the kernel: the listing the driver's comparison must accept.
 */
export const RICH_LISTING: unknown[] = [
 {
  "metainfo": {
   "version": "1.0.6",
   "release_name": "Lester Gooch #5",
   "json_schema_version": 1
  }
 },
 {
  "table": {
   "family": "inet",
   "name": "weft",
   "handle": 1
  }
 },
 {
  "set": {
   "family": "inet",
   "name": "port_ifs",
   "table": "weft",
   "type": "ifname",
   "handle": 14,
   "elem": [
    "p00000001",
    "p00000002",
    "p00000003"
   ]
  }
 },
 {
  "set": {
   "family": "inet",
   "name": "port_addrs",
   "table": "weft",
   "type": [
    "ifname",
    "ether_addr",
    "ipv4_addr"
   ],
   "handle": 15,
   "elem": [
    {
     "concat": [
      "p00000001",
      "0a:92:0a:00:01:05",
      "10.0.1.5"
     ]
    },
    {
     "concat": [
      "p00000002",
      "0a:92:0a:00:02:06",
      "10.0.2.6"
     ]
    },
    {
     "concat": [
      "p00000003",
      "0a:92:0a:00:01:07",
      "10.0.1.7"
     ]
    }
   ]
  }
 },
 {
  "set": {
   "family": "inet",
   "name": "m_sg-a",
   "table": "weft",
   "type": "ipv4_addr",
   "handle": 16,
   "elem": [
    "10.0.1.5",
    "10.0.1.30"
   ]
  }
 },
 {
  "set": {
   "family": "inet",
   "name": "m_sg-b",
   "table": "weft",
   "type": "ipv4_addr",
   "handle": 17,
   "elem": [
    "10.0.1.5",
    "10.0.2.6",
    "10.0.2.21"
   ]
  }
 },
 {
  "map": {
   "family": "inet",
   "name": "egress_ports",
   "table": "weft",
   "type": "ifname",
   "handle": 18,
   "map": "verdict",
   "elem": [
    [
     "p00000001",
     {
      "jump": {
       "target": "egress-p00000001"
      }
     }
    ],
    [
     "p00000002",
     {
      "jump": {
       "target": "egress-p00000002"
      }
     }
    ],
    [
     "p00000003",
     {
      "jump": {
       "target": "egress-p00000003"
      }
     }
    ]
   ]
  }
 },
 {
  "map": {
   "family": "inet",
   "name": "ingress_ports",
   "table": "weft",
   "type": "ifname",
   "handle": 19,
   "map": "verdict",
   "elem": [
    [
     "p00000001",
     {
      "jump": {
       "target": "ingress-p00000001"
      }
     }
    ],
    [
     "p00000002",
     {
      "jump": {
       "target": "ingress-p00000002"
      }
     }
    ],
    [
     "p00000003",
     {
      "jump": {
       "target": "ingress-p00000003"
      }
     }
    ]
   ]
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "prerouting",
   "handle": 1,
   "type": "filter",
   "hook": "prerouting",
   "prio": -150,
   "policy": "accept"
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress",
   "handle": 2,
   "type": "filter",
   "hook": "forward",
   "prio": 0,
   "policy": "accept"
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "ingress",
   "handle": 3,
   "type": "filter",
   "hook": "forward",
   "prio": 10,
   "policy": "accept"
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress-p00000001",
   "handle": 4
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "ingress-p00000001",
   "handle": 5
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress-p00000002",
   "handle": 6
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "ingress-p00000002",
   "handle": 7
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress-p00000003",
   "handle": 8
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "ingress-p00000003",
   "handle": 9
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-a-egress",
   "handle": 10
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-a-ingress",
   "handle": 11
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-b-egress",
   "handle": 12
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-b-ingress",
   "handle": 13
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "prerouting",
   "handle": 20,
   "expr": [
    {
     "match": {
      "op": "!=",
      "left": {
       "meta": {
        "key": "iifname"
       }
      },
      "right": "@port_ifs"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "prerouting",
   "handle": 21,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "concat": [
        {
         "meta": {
          "key": "iifname"
         }
        },
        {
         "payload": {
          "protocol": "ether",
          "field": "saddr"
         }
        },
        {
         "payload": {
          "protocol": "ip",
          "field": "saddr"
         }
        }
       ]
      },
      "right": "@port_addrs"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "prerouting",
   "handle": 22,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress",
   "handle": 23,
   "expr": [
    {
     "match": {
      "op": "in",
      "left": {
       "ct": {
        "key": "state"
       }
      },
      "right": [
       "established",
       "related"
      ]
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress",
   "handle": 24,
   "expr": [
    {
     "match": {
      "op": "in",
      "left": {
       "ct": {
        "key": "state"
       }
      },
      "right": "invalid"
     }
    },
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress",
   "handle": 25,
   "expr": [
    {
     "vmap": {
      "key": {
       "meta": {
        "key": "iifname"
       }
      },
      "data": "@egress_ports"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress",
   "handle": 26,
   "expr": [
    {
     "match": {
      "op": "in",
      "left": {
       "ct": {
        "key": "state"
       }
      },
      "right": [
       "established",
       "related"
      ]
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress",
   "handle": 27,
   "expr": [
    {
     "match": {
      "op": "in",
      "left": {
       "ct": {
        "key": "state"
       }
      },
      "right": "invalid"
     }
    },
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress",
   "handle": 28,
   "expr": [
    {
     "vmap": {
      "key": {
       "meta": {
        "key": "oifname"
       }
      },
      "data": "@ingress_ports"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress-p00000001",
   "handle": 29,
   "expr": [
    {
     "jump": {
      "target": "sg-a-egress"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress-p00000001",
   "handle": 30,
   "expr": [
    {
     "jump": {
      "target": "sg-b-egress"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress-p00000001",
   "handle": 31,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress-p00000001",
   "handle": 32,
   "expr": [
    {
     "jump": {
      "target": "sg-a-ingress"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress-p00000001",
   "handle": 33,
   "expr": [
    {
     "jump": {
      "target": "sg-b-ingress"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress-p00000001",
   "handle": 34,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress-p00000002",
   "handle": 35,
   "expr": [
    {
     "jump": {
      "target": "sg-b-egress"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress-p00000002",
   "handle": 36,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress-p00000002",
   "handle": 37,
   "expr": [
    {
     "jump": {
      "target": "sg-b-ingress"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress-p00000002",
   "handle": 38,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress-p00000003",
   "handle": 39,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "ingress-p00000003",
   "handle": 40,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-egress",
   "handle": 42,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "daddr"
       }
      },
      "right": {
       "prefix": {
        "addr": "10.1.0.0",
        "len": 16
       }
      }
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "udp",
        "field": "dport"
       }
      },
      "right": {
       "set": [
        {
         "range": [
          1000,
          2500
         ]
        },
        3000
       ]
      }
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-egress",
   "handle": 43,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "nfproto"
       }
      },
      "right": "ipv4"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 44,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "saddr"
       }
      },
      "right": {
       "prefix": {
        "addr": "10.0.0.0",
        "len": 16
       }
      }
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "tcp",
        "field": "dport"
       }
      },
      "right": 22
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 46,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "nfproto"
       }
      },
      "right": "ipv4"
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "tcp",
        "field": "dport"
       }
      },
      "right": {
       "set": [
        80,
        443,
        {
         "range": [
          8000,
          8080
         ]
        }
       ]
      }
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 47,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "saddr"
       }
      },
      "right": "@m_sg-b"
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "udp",
        "field": "dport"
       }
      },
      "right": 53
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 48,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "saddr"
       }
      },
      "right": "10.0.1.20"
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "l4proto"
       }
      },
      "right": "icmp"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 49,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "l4proto"
       }
      },
      "right": "ipv6-icmp"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 50,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip6",
        "field": "saddr"
       }
      },
      "right": {
       "prefix": {
        "addr": "2001:db8::",
        "len": 32
       }
      }
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 51,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "saddr"
       }
      },
      "right": {
       "prefix": {
        "addr": "192.168.0.0",
        "len": 24
       }
      }
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "l4proto"
       }
      },
      "right": "tcp"
     }
    },
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-a-ingress",
   "handle": 52,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "nfproto"
       }
      },
      "right": "ipv4"
     }
    },
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-b-egress",
   "handle": 53,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "l4proto"
       }
      },
      "right": "icmp"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-b-egress",
   "handle": 54,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "daddr"
       }
      },
      "right": "10.0.3.4"
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "l4proto"
       }
      },
      "right": "udp"
     }
    },
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-b-egress",
   "handle": 55,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip6",
        "field": "daddr"
       }
      },
      "right": "2001:db8::5"
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "tcp",
        "field": "dport"
       }
      },
      "right": 22
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-b-egress",
   "handle": 56,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "daddr"
       }
      },
      "right": {
       "prefix": {
        "addr": "10.0.0.0",
        "len": 8
       }
      }
     }
    },
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "l4proto"
       }
      },
      "right": "gre"
     }
    },
    {
     "drop": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "sg-b-ingress",
   "handle": 57,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "payload": {
        "protocol": "ip",
        "field": "saddr"
       }
      },
      "right": "@m_sg-a"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "table": {
   "family": "arp",
   "name": "weft",
   "handle": 2
  }
 },
 {
  "set": {
   "family": "arp",
   "name": "port_ifs",
   "table": "weft",
   "type": "ifname",
   "handle": 2,
   "elem": [
    "p00000001",
    "p00000002",
    "p00000003"
   ]
  }
 },
 {
  "set": {
   "family": "arp",
   "name": "port_arp",
   "table": "weft",
   "type": [
    "ifname",
    "ether_addr",
    "ether_addr",
    "ipv4_addr"
   ],
   "handle": 3,
   "elem": [
    {
     "concat": [
      "p00000001",
      "0a:92:0a:00:01:05",
      "0a:92:0a:00:01:05",
      "10.0.1.5"
     ]
    },
    {
     "concat": [
      "p00000002",
      "0a:92:0a:00:02:06",
      "0a:92:0a:00:02:06",
      "10.0.2.6"
     ]
    },
    {
     "concat": [
      "p00000003",
      "0a:92:0a:00:01:07",
      "0a:92:0a:00:01:07",
      "10.0.1.7"
     ]
    }
   ]
  }
 },
 {
  "chain": {
   "family": "arp",
   "table": "weft",
   "name": "input",
   "handle": 1,
   "type": "filter",
   "hook": "input",
   "prio": 0,
   "policy": "accept"
  }
 },
 {
  "rule": {
   "family": "arp",
   "table": "weft",
   "chain": "input",
   "handle": 4,
   "expr": [
    {
     "match": {
      "op": "!=",
      "left": {
       "meta": {
        "key": "iifname"
       }
      },
      "right": "@port_ifs"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "arp",
   "table": "weft",
   "chain": "input",
   "handle": 5,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "concat": [
        {
         "meta": {
          "key": "iifname"
         }
        },
        {
         "payload": {
          "protocol": "ether",
          "field": "saddr"
         }
        },
        {
         "payload": {
          "protocol": "arp",
          "field": "saddr ether"
         }
        },
        {
         "payload": {
          "protocol": "arp",
          "field": "saddr ip"
         }
        }
       ]
      },
      "right": "@port_arp"
     }
    },
    {
     "accept": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "arp",
   "table": "weft",
   "chain": "input",
   "handle": 6,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 }
];
