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
   "handle": 17,
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
   "handle": 18,
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
   "name": "port_routed",
   "table": "weft",
   "type": [
    "ifname",
    "ether_addr",
    "ipv4_addr"
   ],
   "handle": 19,
   "flags": [
    "interval"
   ],
   "elem": [
    {
     "concat": [
      "p00000001",
      "0a:92:0a:00:01:05",
      {
       "prefix": {
        "addr": "172.16.5.0",
        "len": 24
       }
      }
     ]
    },
    {
     "concat": [
      "p00000001",
      "0a:92:0a:00:01:05",
      {
       "prefix": {
        "addr": "192.168.0.0",
        "len": 16
       }
      }
     ]
    }
   ]
  }
 },
 {
  "set": {
   "family": "inet",
   "name": "acl-web_egress",
   "table": "weft",
   "type": [
    "ipv4_addr",
    "inet_proto",
    "inet_service"
   ],
   "handle": 20,
   "flags": [
    "interval"
   ],
   "elem": [
    {
     "concat": [
      {
       "range": [
        "0.0.0.0",
        "10.0.0.4"
       ]
      },
      {
       "range": [
        0,
        255
       ]
      },
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      "10.0.0.5",
      {
       "range": [
        0,
        16
       ]
      },
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      "10.0.0.5",
      "udp",
      {
       "range": [
        0,
        52
       ]
      }
     ]
    },
    {
     "concat": [
      "10.0.0.5",
      "udp",
      {
       "range": [
        54,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      "10.0.0.5",
      {
       "range": [
        18,
        255
       ]
      },
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.0.6",
        "255.255.255.255"
       ]
      },
      {
       "range": [
        0,
        255
       ]
      },
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    }
   ]
  }
 },
 {
  "set": {
   "family": "inet",
   "name": "acl-web_ingress",
   "table": "weft",
   "type": [
    "ipv4_addr",
    "inet_proto",
    "inet_service"
   ],
   "handle": 21,
   "flags": [
    "interval"
   ],
   "elem": [
    {
     "concat": [
      {
       "range": [
        "0.0.0.0",
        "9.255.255.255"
       ]
      },
      "icmp",
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.0.0",
        "len": 23
       }
      },
      "icmp",
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.0.0",
        "len": 23
       }
      },
      "tcp",
      22
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.0.0",
        "len": 23
       }
      },
      "tcp",
      80
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.0.0",
        "len": 23
       }
      },
      "tcp",
      {
       "range": [
        8000,
        8080
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.2.0",
        "len": 24
       }
      },
      {
       "range": [
        0,
        255
       ]
      },
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.3.0",
        "10.0.8.255"
       ]
      },
      "icmp",
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.3.0",
        "10.0.8.255"
       ]
      },
      "tcp",
      22
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.3.0",
        "10.0.8.255"
       ]
      },
      "tcp",
      80
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.3.0",
        "10.0.8.255"
       ]
      },
      "tcp",
      {
       "range": [
        8000,
        8080
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.9.0",
        "len": 24
       }
      },
      "icmp",
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.9.0",
        "len": 24
       }
      },
      "tcp",
      80
     ]
    },
    {
     "concat": [
      {
       "prefix": {
        "addr": "10.0.9.0",
        "len": 24
       }
      },
      "tcp",
      {
       "range": [
        8000,
        8080
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.10.0",
        "10.255.255.255"
       ]
      },
      "icmp",
      {
       "range": [
        0,
        65535
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.10.0",
        "10.255.255.255"
       ]
      },
      "tcp",
      22
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.10.0",
        "10.255.255.255"
       ]
      },
      "tcp",
      80
     ]
    },
    {
     "concat": [
      {
       "range": [
        "10.0.10.0",
        "10.255.255.255"
       ]
      },
      "tcp",
      {
       "range": [
        8000,
        8080
       ]
      }
     ]
    },
    {
     "concat": [
      {
       "range": [
        "11.0.0.0",
        "255.255.255.255"
       ]
      },
      "icmp",
      {
       "range": [
        0,
        65535
       ]
      }
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
   "handle": 22,
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
   "handle": 23,
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
   "handle": 24,
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
   "handle": 25,
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
  "map": {
   "family": "inet",
   "name": "acl_out_ports",
   "table": "weft",
   "type": "ifname",
   "handle": 26,
   "map": "verdict",
   "elem": [
    [
     "p00000001",
     {
      "jump": {
       "target": "acl-out-subnet-a"
      }
     }
    ],
    [
     "p00000003",
     {
      "jump": {
       "target": "acl-out-subnet-a"
      }
     }
    ]
   ]
  }
 },
 {
  "map": {
   "family": "inet",
   "name": "acl_in_ports",
   "table": "weft",
   "type": "ifname",
   "handle": 27,
   "map": "verdict",
   "elem": [
    [
     "p00000001",
     {
      "jump": {
       "target": "acl-in-subnet-a"
      }
     }
    ],
    [
     "p00000003",
     {
      "jump": {
       "target": "acl-in-subnet-a"
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
   "name": "acl",
   "handle": 2,
   "type": "filter",
   "hook": "forward",
   "prio": -10,
   "policy": "accept"
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress",
   "handle": 3,
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
   "handle": 4,
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
   "name": "acl-out-subnet-a",
   "handle": 5
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "acl-in-subnet-a",
   "handle": 6
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress-p00000001",
   "handle": 7
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "ingress-p00000001",
   "handle": 8
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress-p00000002",
   "handle": 9
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "ingress-p00000002",
   "handle": 10
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "egress-p00000003",
   "handle": 11
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "ingress-p00000003",
   "handle": 12
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-a-egress",
   "handle": 13
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-a-ingress",
   "handle": 14
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-b-egress",
   "handle": 15
  }
 },
 {
  "chain": {
   "family": "inet",
   "table": "weft",
   "name": "sg-b-ingress",
   "handle": 16
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "prerouting",
   "handle": 28,
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
   "handle": 29,
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
   "handle": 30,
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
      "right": "@port_routed"
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
   "chain": "acl",
   "handle": 32,
   "expr": [
    {
     "vmap": {
      "key": {
       "meta": {
        "key": "iifname"
       }
      },
      "data": "@acl_out_ports"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "acl",
   "handle": 33,
   "expr": [
    {
     "vmap": {
      "key": {
       "meta": {
        "key": "oifname"
       }
      },
      "data": "@acl_in_ports"
     }
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "egress",
   "handle": 34,
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
   "handle": 35,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "iifname"
       }
      },
      "right": "@port_ifs"
     }
    },
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
   "handle": 36,
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
   "handle": 37,
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
   "handle": 38,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "meta": {
        "key": "oifname"
       }
      },
      "right": "@port_ifs"
     }
    },
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
   "handle": 39,
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
   "chain": "acl-out-subnet-a",
   "handle": 40,
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
        "addr": "10.0.1.0",
        "len": 24
       }
      }
     }
    },
    {
     "return": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "acl-out-subnet-a",
   "handle": 41,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "concat": [
        {
         "payload": {
          "protocol": "ip",
          "field": "daddr"
         }
        },
        {
         "meta": {
          "key": "l4proto"
         }
        },
        {
         "payload": {
          "protocol": "th",
          "field": "dport"
         }
        }
       ]
      },
      "right": "@acl-web_egress"
     }
    },
    {
     "return": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "acl-out-subnet-a",
   "handle": 42,
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
   "chain": "acl-in-subnet-a",
   "handle": 43,
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
        "addr": "10.0.1.0",
        "len": 24
       }
      }
     }
    },
    {
     "return": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "acl-in-subnet-a",
   "handle": 44,
   "expr": [
    {
     "match": {
      "op": "==",
      "left": {
       "concat": [
        {
         "payload": {
          "protocol": "ip",
          "field": "saddr"
         }
        },
        {
         "meta": {
          "key": "l4proto"
         }
        },
        {
         "payload": {
          "protocol": "th",
          "field": "dport"
         }
        }
       ]
      },
      "right": "@acl-web_ingress"
     }
    },
    {
     "return": null
    }
   ]
  }
 },
 {
  "rule": {
   "family": "inet",
   "table": "weft",
   "chain": "acl-in-subnet-a",
   "handle": 45,
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
   "chain": "egress-p00000001",
   "handle": 46,
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
   "handle": 47,
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
   "handle": 48,
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
   "handle": 49,
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
   "handle": 50,
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
   "handle": 51,
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
   "handle": 52,
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
   "handle": 53,
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
   "handle": 54,
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
   "handle": 55,
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
   "handle": 56,
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
   "handle": 57,
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
   "handle": 59,
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
   "handle": 60,
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
   "handle": 61,
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
   "handle": 63,
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
   "handle": 64,
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
   "handle": 65,
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
   "handle": 66,
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
   "handle": 67,
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
   "handle": 68,
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
   "handle": 69,
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
   "handle": 70,
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
   "handle": 71,
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
   "handle": 72,
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
   "handle": 73,
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
   "handle": 74,
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
  "set": {
   "family": "arp",
   "name": "port_arp_routed",
   "table": "weft",
   "type": [
    "ifname",
    "ether_addr",
    "ether_addr",
    "ipv4_addr"
   ],
   "handle": 4,
   "flags": [
    "interval"
   ],
   "elem": [
    {
     "concat": [
      "p00000001",
      "0a:92:0a:00:01:05",
      "0a:92:0a:00:01:05",
      {
       "prefix": {
        "addr": "172.16.5.0",
        "len": 24
       }
      }
     ]
    },
    {
     "concat": [
      "p00000001",
      "0a:92:0a:00:01:05",
      "0a:92:0a:00:01:05",
      {
       "prefix": {
        "addr": "192.168.0.0",
        "len": 16
       }
      }
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
   "handle": 5,
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
   "handle": 6,
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
   "handle": 7,
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
      "right": "@port_arp_routed"
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
   "handle": 8,
   "expr": [
    {
     "drop": null
    }
   ]
  }
 }
];
