import type { ErrorCode } from '../../../src/errors.js';

/**
 * One message per API error code (the compiler checks the list against src/errors.ts), plus the
 * variants a page picks from the error's details, plus `unreachable` for when no answer came.
 */
export type ErrorMessages = Record<
  | ErrorCode
  | 'code_invalid_attempts'
  | 'code_invalid_last'
  | 'rate_limited_later'
  | 'unreachable'
  | 'captcha_widget_failed'
  | 'captcha_widget_invalid'
  | 'wrong_current_password',
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
    secondStepHeading: '两步验证',
    secondStepIntro: '打开身份验证器应用，输入其中显示的 6 位验证码。手机不在身边时，也可以输入一个恢复码。',
    verify: '验证',
    startOver: '返回上一步',
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
    cancel: '取消',
  },
  twoFactor: {
    heading: '两步验证',
    off: '未开启。开启后，登录和重置密码时还需要输入身份验证器应用中的验证码，即使有人拿到了你的密码或短信验证码也无法登录。',
    on: '已开启。登录和重置密码时需要身份验证器中的验证码或一个恢复码。',
    recoveryLeft: '剩余 {n} 个恢复码。',
    setUp: '设置两步验证',
    scan: '用身份验证器应用（如 Google Authenticator、Microsoft Authenticator）扫描二维码。',
    qrAlt: '供身份验证器应用扫描的二维码',
    manual: '无法扫描？在应用中手动输入这个密钥：',
    showUri: '显示完整的 otpauth 链接',
    enterCode: '然后输入应用中显示的 6 位验证码：',
    turnOn: '开启',
    turnOff: '关闭',
    turnOffIntro: '请先确认是你本人：输入当前密码和身份验证器验证码（或一个恢复码）。',
    nowOn: '两步验证已开启。',
    nowOff: '两步验证已关闭。',
  },
  recovery: {
    heading: '恢复码',
    saveNow: '请现在就保存这些恢复码，它们只显示这一次。手机丢失时，每个恢复码可以代替验证码使用一次。',
    copy: '复制',
    copied: '已复制到剪贴板。',
    copyFailed: '无法自动复制，请手动选中后复制。',
    download: '下载',
    fileName: 'sms-verify-恢复码.txt',
    fileHeader: 'sms-verify 两步验证恢复码（每个只能使用一次）',
    done: '我已保存',
  },
  phoneChange: {
    heading: '更换手机号',
    intro: '验证码会发送到新号码，原号码会收到一条通知短信。',
    submit: '更换手机号',
    useTotp: '改用身份验证器验证码',
    usePassword: '改用当前密码',
    changed: '手机号已更换为 {phone}。',
  },
  activity: {
    heading: '最近的账号活动',
    empty: '暂无记录。',
    ip: 'IP {ip}',
    events: {
      sms_sent: '发送短信',
      code_failed: '短信验证码输入错误',
      lockout: '错误次数过多，已临时锁定',
      sign_up: '注册账号',
      sign_in: '登录',
      sign_in_failed: '登录失败',
      password_reset: '重置密码',
      two_factor_enabled: '开启两步验证',
      two_factor_disabled: '关闭两步验证',
      two_factor_failed: '两步验证码错误',
      recovery_code_used: '使用了恢复码',
      phone_changed: '更换手机号',
      other: '其他安全事件',
    },
    details: {
      password: '密码',
      sms: '短信验证码',
      second_factor: '两步验证',
      reauthentication: '确认身份',
      register: '注册',
      login: '登录',
      reset_password: '重置密码',
      change_phone: '更换手机号',
      notice: '通知',
      recoveryLeft: '剩余 {n} 个',
      from: '原号码 {phone}',
    },
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
      label: '当前密码',
      placeholder: '请输入密码',
    },
    newPhone: {
      label: '新手机号',
    },
    totp: {
      label: '身份验证器验证码',
      placeholder: '6 位数字或恢复码',
      placeholderDigits: '6 位数字',
    },
    captchaWidget: {
      label: '人机验证',
      loading: '正在加载人机验证…',
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
    totpRequired: '请输入身份验证器中的验证码。',
    totpFormat: '验证码是 6 位数字。',
    captchaWidgetRequired: '请先完成人机验证。',
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
    ticket_invalid: '这一步已过期或已完成，请重新登录。',
    captcha_widget_failed: '人机验证加载失败，请检查网络后重试。',
    wrong_current_password: '当前密码不正确。',
    captcha_widget_invalid: '人机验证未通过或已过期，已重新验证，请再试一次。',
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
