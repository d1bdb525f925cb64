/**
 * The name PostgreSQL gives an unaliased output column (FigureColnameInternal in parse_target.c),
 * so that an outer query naming a sub-query's column finds the right one.
 */
import { stringsOf, type AnyNode } from './lineage-expr.ts';

const UNNAMED = '?column?';

const SQL_VALUE_FUNCTIONS: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

export function figureColumnName(node: unknown): string {
  return figure(node) ?? UNNAMED;
}

function figure(node: unknown): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const [tag, body] = Object.entries(node as AnyNode)[0] ?? [];
  const b = (body ?? {}) as AnyNode;
  switch (tag) {
    case 'ColumnRef': {
      const parts = stringsOf(b.fields);
      const fields = (b.fields as unknown[]) ?? [];
      return fields.length === parts.length ? parts[parts.length - 1] : undefined;
    }
    case 'A_Indirection': {
      const names = stringsOf(b.indirection);
      const last = (b.indirection as unknown[])?.at(-1) as AnyNode | undefined;
      return last?.String ? names[names.length - 1] : figure(b.arg);
    }
    case 'FuncCall':
      return stringsOf(b.funcname).at(-1);
    case 'A_Expr':
      return b.kind === 'AEXPR_NULLIF' ? 'nullif' : undefined;
    case 'TypeCast': {
      const inner = figure(b.arg);
      if (inner) return inner;
      const names = stringsOf((b.typeName as AnyNode | undefined)?.names);
      return names.at(-1);
    }
    case 'CollateClause':
      return figure(b.arg);
    case 'SubLink':
      if (b.subLinkType === 'EXISTS_SUBLINK') return 'exists';
      if (b.subLinkType === 'ARRAY_SUBLINK') return 'array';
      if (b.subLinkType === 'EXPR_SUBLINK' || b.subLinkType === 'MULTIEXPR_SUBLINK') {
        const select = (b.subselect as AnyNode | undefined)?.SelectStmt as AnyNode | undefined;
        const first = ((select?.targetList as AnyNode[] | undefined)?.[0]?.ResTarget ?? {}) as AnyNode;
        return (first.name as string | undefined) ?? figure(first.val);
      }
      return undefined;
    case 'CaseExpr':
      return figure(b.defresult) ?? 'case';
    case 'A_ArrayExpr':
      return 'array';
    case 'RowExpr':
      return 'row';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'MinMaxExpr':
      return b.op === 'IS_LEAST' ? 'least' : 'greatest';
    case 'SQLValueFunction':
      return SQL_VALUE_FUNCTIONS[b.op as string];
    case 'GroupingFunc':
      return 'grouping';
    case 'MergeSupportFunc':
      return 'merge_action';
    case 'XmlExpr':
      return xmlName(b.op as string);
    case 'JsonObjectConstructor':
      return 'json_object';
    case 'JsonArrayConstructor':
    case 'JsonArrayQueryConstructor':
      return 'json_array';
    case 'JsonObjectAgg':
      return 'json_objectagg';
    case 'JsonArrayAgg':
      return 'json_arrayagg';
    case 'JsonFuncExpr':
      return b.op === 'JSON_EXISTS_OP' ? 'json_exists' : b.op === 'JSON_QUERY_OP' ? 'json_query' : 'json_value';
    default:
      return undefined;
  }
}

function xmlName(op: string): string | undefined {
  const names: Record<string, string> = {
    IS_XMLCONCAT: 'xmlconcat',
    IS_XMLELEMENT: 'xmlelement',
    IS_XMLFOREST: 'xmlforest',
    IS_XMLPARSE: 'xmlparse',
    IS_XMLPI: 'xmlpi',
    IS_XMLROOT: 'xmlroot',
    IS_XMLSERIALIZE: 'xmlserialize',
  };
  return names[op];
}
