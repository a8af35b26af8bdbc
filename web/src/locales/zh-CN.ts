import type { ErrorCode } from '../../../src/errors.js';

/**
 * One message per API error code (the compiler checks the list against src/errors.ts), plus the
 * variants a page picks from the error's details, plus `unreachable` for when no answer came.
 */
export type ErrorMessages = Record<
  ErrorCode | 'code_invalid_attempts' | 'code_invalid_last' | 'rate_limited_later' | 'unreachable',
  string
>;

// vue-i18n reserves { } @ $ |: placeholders are {name}, and "a | b" picks a plural form.
const zhCN = {
  app: {
    name: 'sms-verify',
    tagline: '手机号注册与登录',
    switchLanguage: 'English',
    switchLanguageHint: 'Switch to English',
  },
  titles: {
    register: '注册',
    login: '登录',
    reset: '重置密码',
    account: '我的账号',
    notFound: '页面不存在',
  },
  register: {
    heading: '创建账号',
    intro: '用手机号注册，我们会把验证码以短信发给你。',
    submit: '注册',
    haveAccount: '已有账号？',
    signIn: '登录',
  },
  login: {
    heading: '登录',
    intro: '欢迎回来。',
    tablist: '登录方式',
    tabPassword: '密码登录',
    tabSms: '验证码登录',
    submit: '登录',
    forgot: '忘记密码？',
    noAccount: '还没有账号？',
    signUp: '注册',
  },
  reset: {
    heading: '重置密码',
    intro: '验证手机号后设置新密码。重置后，所有已登录的设备都需要重新登录。',
    submit: '重置密码',
    remembered: '想起密码了？',
    signIn: '返回登录',
  },
  account: {
    heading: '我的账号',
    intro: '你已登录。',
    phone: '手机号',
    createdAt: '注册时间',
    signOut: '退出登录',
    loading: '正在加载…',
  },
  notFound: {
    heading: '页面不存在',
    body: '你要找的页面不存在或已移动。',
    home: '返回首页',
  },
  fields: {
    phone: {
      label: '手机号',
      placeholder: '请输入手机号',
      prefixHint: '默认 {prefix}；其他国家或地区请以 + 和区号开头',
    },
    captcha: {
      label: '图形验证码',
      placeholder: '请输入图中字符',
      refresh: '看不清，换一张',
      loading: '正在加载图片',
    },
    code: {
      label: '短信验证码',
      placeholder: '{length} 位数字',
      send: '获取验证码',
      resend: '重新获取',
      countdown: '{seconds} 秒后重新获取',
      sentTo: '验证码已发送至 {phone}，{minutes} 分钟内有效。',
    },
    password: {
      label: '密码',
      placeholder: '至少 8 位',
    },
    confirmPassword: {
      label: '确认密码',
      placeholder: '再次输入密码',
    },
    newPassword: {
      label: '新密码',
      placeholder: '至少 8 位',
    },
    currentPassword: {
      placeholder: '请输入密码',
    },
  },
  strength: {
    label: '密码强度：{level}',
    too_short: '太短',
    weak: '弱',
    fair: '中',
    strong: '强',
    advice: '建议 12 位以上，混合字母、数字和符号。',
  },
  validation: {
    phoneRequired: '请输入手机号。',
    captchaRequired: '请输入图形验证码。',
    codeRequired: '请输入短信验证码。',
    codeFormat: '验证码是 {length} 位数字。',
    passwordRequired: '请输入密码。',
    passwordTooShort: '密码至少需要 8 位。',
    passwordTooLong: '密码不能超过 128 位。',
    passwordMismatch: '两次输入的密码不一致。',
  },
  errors: {
    invalid_request: '提交的信息有误，请检查后重试。',
    invalid_phone: '请输入有效的手机号码。',
    captcha_required: '请先输入图形验证码。',
    captcha_invalid: '图形验证码不正确或已失效，已换一张新的，请重新输入。',
    rate_limited: '操作太频繁，请 {seconds} 秒后再试。',
    rate_limited_later: '操作太频繁，请稍后再试。',
    phone_taken: '该手机号已注册。',
    phone_not_registered: '该手机号尚未注册。',
    code_invalid: '验证码不正确，或还没有获取验证码。',
    code_invalid_attempts: '验证码不正确，还可以再试 {n} 次。',
    code_invalid_last: '验证码不正确，已没有重试机会，请重新获取。',
    code_expired: '验证码已过期。',
    code_attempts_exceeded: '错误次数过多，这个验证码已失效。',
    weak_password: '密码长度需要在 8 到 128 位之间。',
    invalid_credentials: '手机号或密码不正确。',
    unauthorized: '登录已失效，请重新登录。',
    not_found: '请求的内容不存在，请刷新页面后重试。',
    payload_too_large: '提交的内容太长了。',
    sms_send_failed: '短信发送失败，请稍后重试。',
    service_unavailable: '服务暂时不可用，请稍后重试。',
    internal_error: '服务器出了点问题，请稍后重试。',
    region_not_allowed: '暂不支持向该国家或地区的号码发送短信。',
    two_factor_required: '此账号已开启两步验证，请输入身份验证器中的验证码或恢复码。',
    two_factor_invalid: '身份验证器验证码或恢复码错误，或已被使用。',
    two_factor_already_enabled: '两步验证已经开启。',
    two_factor_not_enabled: '两步验证尚未开启。',
    two_factor_setup_required: '请先开始设置两步验证。',
    ticket_invalid: '登录步骤已过期或已完成，请重新登录。',
    unreachable: '网络连接失败，请检查网络后重试。',
  } satisfies ErrorMessages,
  actions: {
    signIn: '直接登录',
    signUp: '去注册',
    resend: '重新获取验证码',
    retry: '重试',
  },
  notices: {
    signedOut: '你已退出登录。',
    passwordReset: '密码已重置，请用新密码登录。',
  },
};

export type MessageSchema = typeof zhCN;
export default zhCN;
