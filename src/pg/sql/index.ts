export { classifyParsed, classifySql, judgeFunctionCallMessage } from './classify.ts';
export type { ClassifyContext, SqlJudgement, StatementJudgement } from './judgement.ts';
export { parseQualifiedName, qualifiedName, quoteIdentifier } from './names.ts';
export { loadSqlParser, normalizeSql, parseSql, type ParseOutcome, type ParseResult } from './parser.ts';
export { createPreparedStatements, type PreparedStatements } from './prepared-statements.ts';
export { isStricter, SQL_RULE_NAMES, SQL_RULES, verdictForRule, type SqlRule, type SqlVerdict } from './rules.ts';
