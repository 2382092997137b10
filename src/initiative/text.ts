/**
 * Version 1 of the initiative, in the registry's own words (the association owns and versions
 * the text; it is not a copy of any 2009 campaign document).
 */
import type { InitiativeContent } from '../../models/initiative';

export const INITIATIVE_V1: InitiativeContent = {
  version: 1,
  title: { zh: '企业质量诚信倡议书', en: 'Enterprise Quality Integrity Initiative' },
  text: {
    zh: [
      '质量是企业的生命，诚信是企业的立身之本。为弘扬质量诚信精神，我们郑重倡议并承诺：',
      '一、坚持质量第一。把质量作为企业发展的首要目标，建立健全质量管理体系，落实质量主体责任。',
      '二、诚实守信经营。如实标注产品和服务信息，不作虚假宣传，兑现对用户的每一项质量承诺。',
      '三、严守标准法规。严格执行国家法律法规和强制性标准，主动采用先进标准，不生产、不销售不合格产品。',
      '四、抵制假冒伪劣。自觉维护市场秩序，坚决抵制假冒伪劣，保护知识产权。',
      '五、履行社会责任。重视质量安全、环境保护和员工权益，接受社会监督，及时回应质量投诉。',
      '六、持续改进提升。开展质量改进和群众性质量活动，对标先进，追求卓越。',
      '我们愿以实际行动践行上述承诺，共同营造“重质量、讲诚信”的良好社会氛围。',
    ].join('\n'),
    en: [
      'Quality is the life of an enterprise, and integrity its foundation. To promote integrity in quality, we solemnly call for and commit to the following:',
      '1. Quality first. Make quality the first goal of our development, maintain a sound quality management system and take full responsibility for quality.',
      '2. Honest business. Describe our products and services truthfully, make no false claims, and keep every quality promise we make to our customers.',
      '3. Standards and law. Strictly follow national laws, regulations and mandatory standards, adopt advanced standards, and neither make nor sell non-conforming products.',
      '4. No counterfeits. Uphold fair markets, refuse counterfeit and shoddy goods, and respect intellectual property.',
      '5. Social responsibility. Care for product safety, the environment and our employees, accept public oversight and answer quality complaints promptly.',
      '6. Continuous improvement. Pursue quality improvement and quality circles, learn from the best and strive for excellence.',
      'We will put these commitments into practice and together build a society that values quality and integrity.',
    ].join('\n'),
  },
};
