import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Attribution captured for a uid at click time; later calls fill in what was missing. */
@Entity({ name: 'clicks' })
export class Click {
  @PrimaryColumn({ type: 'text' })
  uid: string;

  /** bigint in SQL because Telegram ids exceed int4; every id fits in a JS safe integer. */
  @Column({
    name: 'tg_id',
    type: 'bigint',
    nullable: true,
    transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) },
  })
  tgId: number | null;

  @Column({ type: 'text', nullable: true })
  fbclid: string | null;

  @Column({ name: 'campaign_id', type: 'text', nullable: true })
  campaignId: string | null;

  @Column({ name: 'campaign_name', type: 'text', nullable: true })
  campaignName: string | null;

  @Column({ type: 'text', nullable: true })
  country: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
