/**
 * English and Simplified Chinese. A page asks `t('key')`; a key with no
 * translation shows the English text (so a new page works before it is
 * translated). The language is kept in localStorage.
 */
import { createContext, useContext } from 'react';

export type Lang = 'en' | 'zh';
const zh: Record<string, string> = {
  'Sign in': '登录',
  'Sign out': '退出',
  SecretId: 'SecretId',
  SecretKey: 'SecretKey',
  'VPCs': '私有网络',
  'Subnets': '子网',
  'Security groups': '安全组',
  'Instances': '云服务器',
  'Route tables': '路由表',
  'Network ACLs': '网络ACL',
  'Peering connections': '对等连接',
  'Elastic IPs': '弹性公网IP',
  'NAT gateways': 'NAT网关',
  'Load balancers': '负载均衡',
  'Flow logs': '流日志',
  'Metrics': '监控',
  'Region status': '地域状态',
  'Topology': '拓扑',
  'Tracer': '路径追踪',
  'Create': '新建',
  'Delete': '删除',
  'Cancel': '取消',
  'Refresh': '刷新',
  'Search': '搜索',
  'Name': '名称',
  'ID': 'ID',
  'State': '状态',
  'Created': '创建时间',
  'Previous': '上一页',
  'Next': '下一页',
  'No rows': '暂无数据',
  'Loading…': '加载中…',
  'Details': '详情',
  'Save': '保存',
  'Preview': '预览',
};

/** A page adds its own Chinese strings (at module load), so pages do not all edit one file. */
export function addZh(more: Record<string, string>): void {
  Object.assign(zh, more);
}

export const translate = (lang: Lang, key: string) => (lang === 'zh' ? (zh[key] ?? key) : key);
export const LangContext = createContext<Lang>('en');
export function useT() {
  const lang = useContext(LangContext);
  return (key: string) => translate(lang, key);
}
export const savedLang = (): Lang => (localStorage.getItem('weft.lang') === 'zh' ? 'zh' : 'en');
export const saveLang = (l: Lang) => localStorage.setItem('weft.lang', l);
