/**
 * 错误的文案（与 zh-CN.ts 合并；英文见 errors-en.ts，键名必须一致）。
 * `http.<状态码>`：HTTP 状态的名称（简易错误页）；`error.<code>`：用例错误的稳定代码（src/errors.ts 的
 * AppError.code）在页面上的说法，API 仍给出英文 detail。
 */
export const errorsZhCN = {
  'http.400': '请求有误',
  'http.401': '需要登录',
  'http.403': '无权访问',
  'http.404': '页面不存在',
  'http.405': '不支持的请求方法',
  'http.409': '与现有记录冲突',
  'http.410': '已失效',
  'http.413': '请求内容过大',
  'http.415': '不支持的内容类型',
  'http.429': '请求过于频繁',
  'http.500': '服务器内部错误',
  'http.503': '服务暂不可用',

  'error.validation-failed': '部分字段缺失或无效。',
  'error.duplicate': '已有相同内容的记录。',
  'error.pledge-not-pending-review': '该承诺已不在待审核状态（可能已被其他管理员处理）。',
  'error.pledge-not-active': '只有生效中的承诺可以更正。',
  'error.pledge-exists': '该企业（统一社会信用代码）已有待确认、待审核或生效中的承诺。',
  'error.pledge-changed': '承诺在处理期间发生了变化，请刷新页面后重试。',
  'error.nothing-to-correct': '没有需要更正的内容：请填写企业名称、英文名称或行业中的至少一项。',
  'error.certificate-pending': '证书仍在签发中，请稍后再试。',
  'error.certificate-not-valid': '该证书已不是有效状态；只有有效的证书可以撤销。',
  'error.no-certificate': '该承诺还没有证书。',
  'error.draft-exists': '已有一份草稿，请先编辑或发布它。',
  'error.initiative-published': '该版本已经发布；已发布的文本不会再更改，请新建草稿。',
  'error.admin-exists': '已有使用该电子邮箱的管理员。',
  'error.cannot-disable-self': '不能停用自己的账户。',
  'error.admin-disabled': '该管理员账户已停用。',
  'error.no-initiative': '倡议书尚未发布，暂不能签署。',
} as const;
