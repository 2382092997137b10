/** A company, identified by its Unified Social Credit Code (统一社会信用代码). */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const companySchema = new Schema(
  {
    uscc: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    nameEn: { type: String },
    /** GB/T 2260 two-digit province code, derived from the USCC. */
    province: { type: String, required: true },
    /** GB/T 4754-2017 section letter A–T. */
    industry: { type: String, required: true },
    address: { type: String },
    website: { type: String },
  },
  { timestamps: true },
);

export type CompanyDoc = InferSchemaType<typeof companySchema>;
export const Company = mongoose.model('Company', companySchema);
